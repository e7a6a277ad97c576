/**
 * The Mutating/ValidatingWebhookConfiguration objects, as data (pure `desiredWebhooks`) and kept current
 * by a runnable on every replica (`createWebhookConfigurationSync`).
 *
 * Fail closed where it matters, never cluster-wide: EKS's webhooks use failurePolicy Ignore with no
 * selector, so an outage silently runs a policy's pods with the node's groups (docs/admission.md, issue
 * #167), and a bug denies pods in clusters that never use SecurityGroupPolicy (#38). The pod-eni mutating
 * webhook selects only namespaces labelled `trunking.sgp-operator.io/has-policies=true` (set by the
 * SecurityGroupPolicy controller) and fails closed there; pods elsewhere never call it.
 *
 * The pod-eni annotation guard (vpod) covers every namespace, kube-system too: the VPC CNI wires a pod into
 * whatever branch ENI its `vpc.amazonaws.com/pod-eni` annotation names, in any namespace, so a namespace
 * without a policy is exactly where a forged annotation would go unnoticed. matchConditions keep it off the
 * path of every ordinary request: only a CREATE that carries the annotation, or an UPDATE that adds, changes
 * or removes it, and only from someone other than the operator itself (`operatorExcluded`), reaches the
 * operator. Those few requests fail closed: with the operator down nobody but the operator can write the
 * annotation, while pods without it are admitted as if the webhook did not exist. See docs/admission.md.
 *
 * Security groups by annotation add two more:
 * - a mutating webhook on the same path for namespaces opted in with ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL,
 *   failing closed like the policy one: a pod admitted there without the pod-eni resource would run with the
 *   node's groups although its annotation asked for others;
 * - validating webhooks for Pods, ServiceAccounts and workload pod templates in every namespace (a namespace
 *   not opted in is exactly what must be refused), narrowed by matchConditions (CEL, GA in Kubernetes 1.30)
 *   to objects whose annotation is new or changed, so other writes never call the operator. They fail open
 *   (Ignore) on purpose: the pod controller judges every annotation again and never applies a refused group,
 *   so an outage costs only the early error message, while failing closed would block every annotated
 *   workload in the cluster, in namespaces that never opted in too.
 */
import {
  ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL,
  POD_ENI_ANNOTATION,
  POLICY_NAMESPACE_LABEL,
  SECURITY_GROUPS_ANNOTATION,
} from '../api/constants.ts';
import type { LabelSelector } from '../api/types.ts';
import { Kinds } from '../api/kinds.ts';
import { KubeConflictError } from '../framework/index.ts';
import type { Clock, KubeClient, KubeObject, Runnable } from '../framework/index.ts';
import type { Logger } from '../observability/logger.ts';
import { mergeCaBundle } from './ca-bundle.ts';
import type { CertificateSource } from './certificates.ts';
import { ANNOTATION_PLACES } from './validate-annotations.ts';

export const MUTATING_CONFIGURATION_NAME = 'sgp-operator-mutating-webhook';
export const VALIDATING_CONFIGURATION_NAME = 'sgp-operator-validating-webhook';
export const MUTATE_POD_PATH = '/mutate-v1-pod';
export const VALIDATE_POD_PATH = '/validate-v1-pod';
export const VALIDATE_ANNOTATIONS_PATH = '/validate-security-group-annotations';
export const VALIDATE_POLICY_PATH = '/validate-securitygrouppolicy';

export type ClientTarget =
  | { service: { namespace: string; name: string; port: number } }
  /** Base URL without a path, e.g. https://127.0.0.1:9443 (local runs and tests). */
  | { baseUrl: string };

export interface WebhookConfigurationSettings {
  mutatingName: string;
  validatingName: string;
  target: ClientTarget;
  /** Namespaces whose pods go through the webhooks; default: those holding at least one policy. */
  namespaceSelector: LabelSelector;
  /**
   * Namespaces whose objects' annotations are checked (security groups, and the pod-eni guard); default all.
   * The mutating annotation webhook adds the opt-in label to it.
   */
  annotationNamespaceSelector: LabelSelector;
  /**
   * The username the operator writes pods as (`system:serviceaccount:<namespace>:<name>` in a cluster); its
   * requests skip the pod-eni guard entirely, so the operator's own annotate never waits on a webhook.
   */
  operatorUsername: string;
  failurePolicy: 'Fail' | 'Ignore';
  timeoutSeconds: number;
}

export const DEFAULT_NAMESPACE_SELECTOR: LabelSelector = { matchLabels: { [POLICY_NAMESPACE_LABEL]: 'true' } };

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; port: number; path: string };
  caBundle?: string;
}

/** The fields of an admissionregistration.k8s.io/v1 webhook we set; the API server defaults the rest. */
export interface Webhook {
  name: string;
  clientConfig: WebhookClientConfig;
  rules: Array<{
    apiGroups: string[];
    apiVersions: string[];
    operations: string[];
    resources: string[];
    scope: string;
  }>;
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Equivalent';
  sideEffects: 'None';
  admissionReviewVersions: string[];
  timeoutSeconds: number;
  reinvocationPolicy?: 'IfNeeded';
  matchConditions?: Array<{ name: string; expression: string }>;
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: Webhook[];
}

/** Desired webhooks of both configurations; `caBundle` undefined leaves clientConfig.caBundle out. */
export function desiredWebhooks(
  settings: WebhookConfigurationSettings,
  caBundle: string | undefined,
): { mutating: Webhook[]; validating: Webhook[] } {
  const clientConfig = (path: string): WebhookClientConfig => ({
    ...('service' in settings.target
      ? { service: { ...settings.target.service, path } }
      : { url: `${settings.target.baseUrl.replace(/\/$/, '')}${path}` }),
    ...(caBundle ? { caBundle } : {}),
  });
  const common = {
    namespaceSelector: settings.namespaceSelector,
    objectSelector: {},
    failurePolicy: settings.failurePolicy,
    matchPolicy: 'Equivalent' as const,
    sideEffects: 'None' as const,
    admissionReviewVersions: ['v1'],
    timeoutSeconds: settings.timeoutSeconds,
  };
  const podRule = (operations: string[]): Webhook['rules'][number] => ({
    apiGroups: [''],
    apiVersions: ['v1'],
    operations,
    resources: ['pods'],
    scope: 'Namespaced',
  });
  const annotationCommon = { ...common, namespaceSelector: settings.annotationNamespaceSelector };
  return {
    mutating: [
      {
        name: 'mpod.trunking.sgp-operator.io',
        clientConfig: clientConfig(MUTATE_POD_PATH),
        rules: [podRule(['CREATE'])],
        // A later mutating webhook (a sidecar injector) may reorder containers; run again if it did.
        reinvocationPolicy: 'IfNeeded',
        ...common,
      },
      {
        // In a namespace with both labels both webhooks run; the second finds the resource already there.
        name: 'mpod-annotations.trunking.sgp-operator.io',
        clientConfig: clientConfig(MUTATE_POD_PATH),
        rules: [podRule(['CREATE'])],
        reinvocationPolicy: 'IfNeeded',
        ...annotationCommon,
        namespaceSelector: withLabel(
          settings.annotationNamespaceSelector,
          ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL,
          'true',
        ),
      },
    ],
    validating: [
      {
        name: 'vpod.trunking.sgp-operator.io',
        clientConfig: clientConfig(VALIDATE_POD_PATH),
        rules: [
          // pods/status too: its update keeps the spec but takes metadata changes, annotations included.
          { ...podRule(['CREATE', 'UPDATE']), resources: ['pods', 'pods/status'] },
          // A Binding's annotations are copied onto the pod it binds (pods/binding, and the older bindings).
          { ...podRule(['CREATE']), resources: ['pods/binding', 'bindings'] },
        ],
        ...common,
        namespaceSelector: settings.annotationNamespaceSelector,
        matchConditions: [
          { name: 'pod-eni-annotation-set-or-changed', expression: podEniAnnotationTouched() },
          { name: 'not-the-operator', expression: operatorExcluded(settings.operatorUsername) },
        ],
      },
      // One per place the annotation sits: a webhook has one set of matchConditions.
      ...ANNOTATION_PLACES.map((place): Webhook => ({
        name: `vannotations-${place.name}.trunking.sgp-operator.io`,
        clientConfig: clientConfig(VALIDATE_ANNOTATIONS_PATH),
        rules: place.kinds.map((kind) => ({
          apiGroups: [kind.group],
          apiVersions: ['v1'],
          operations: ['CREATE', 'UPDATE'],
          resources: [kind.resource],
          scope: 'Namespaced',
        })),
        ...annotationCommon,
        failurePolicy: 'Ignore',
        matchConditions: [
          { name: 'security-groups-annotation-set-or-changed', expression: annotationChanged(place.templatePath) },
        ],
      })),
      policyGrantWebhook(clientConfig(VALIDATE_POLICY_PATH), common),
    ],
  };
}

/**
 * SecurityGroupPolicies against the SecurityGroupGrants, in every namespace. It fails open (Ignore) on
 * purpose: the SecurityGroupPolicy controller re-checks every policy and never lets a pod get a group no
 * grant allows, so an outage costs only the early error message. Failing closed would make every policy
 * write in the cluster depend on the operator, also in clusters with no grant at all, where EKS's behaviour
 * (no check) is promised.
 */
function policyGrantWebhook(
  clientConfig: WebhookClientConfig,
  common: Omit<Webhook, 'name' | 'clientConfig' | 'rules'>,
): Webhook {
  return {
    name: 'vsgp-grants.trunking.sgp-operator.io',
    clientConfig,
    rules: [
      {
        apiGroups: ['vpcresources.k8s.aws'],
        apiVersions: ['v1beta1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['securitygrouppolicies'],
        scope: 'Namespaced',
      },
    ],
    ...common,
    namespaceSelector: {},
    failurePolicy: 'Ignore',
  };
}

/** `selector` with one more required label (other terms kept). */
function withLabel(selector: LabelSelector, key: string, value: string): LabelSelector {
  return { ...selector, matchLabels: { ...selector.matchLabels, [key]: value } };
}

/** CEL literal of an annotation key: JSON's escaping, in single quotes. */
function celKey(annotation: string): string {
  return JSON.stringify(annotation).replaceAll('"', "'");
}

/**
 * CEL: `annotation` is present on `root` (at `templatePath`). Each step is guarded with has(), since a missing
 * field is an error in CEL, not null.
 */
function celAnnotationPresent(root: string, annotation: string, templatePath: readonly string[] = []): string {
  const steps = [...templatePath, 'metadata', 'annotations'];
  const guards = steps.map((_, index) => `has(${[root, ...steps.slice(0, index + 1)].join('.')})`);
  return [...guards, `${celKey(annotation)} in ${[root, ...steps].join('.')}`].join(' && ');
}

/** CEL: the value of `annotation` on `root` (at `templatePath`); guard it with celAnnotationPresent. */
function celAnnotationValue(root: string, annotation: string, templatePath: readonly string[] = []): string {
  return `${[root, ...templatePath, 'metadata', 'annotations'].join('.')}[${celKey(annotation)}]`;
}

/** CEL: the security-groups annotation is present on `object` (at `templatePath`) and, on UPDATE, differs from `oldObject`'s. */
export function annotationChanged(templatePath: readonly string[]): string {
  const present = (root: string): string => celAnnotationPresent(root, SECURITY_GROUPS_ANNOTATION, templatePath);
  const value = (root: string): string => celAnnotationValue(root, SECURITY_GROUPS_ANNOTATION, templatePath);
  return (
    `(${present('object')}) && (request.operation == 'CREATE' || !(${present('oldObject')}) || ` +
    `${value('oldObject')} != ${value('object')})`
  );
}

/**
 * CEL: a CREATE carrying the pod-eni annotation, or an UPDATE where it appears, disappears or changes. An
 * UPDATE that leaves it as it was (kubectl label, another annotation, the kubelet's status) does not match.
 */
export function podEniAnnotationTouched(): string {
  const present = (root: string): string => celAnnotationPresent(root, POD_ENI_ANNOTATION);
  const value = (root: string): string => celAnnotationValue(root, POD_ENI_ANNOTATION);
  return (
    `request.operation == 'CREATE' ? (${present('object')}) : ` +
    `((${present('object')}) != (${present('oldObject')}) || ` +
    `((${present('object')}) && ${value('object')} != ${value('oldObject')}))`
  );
}

/**
 * CEL: the request is not the operator's own. A ServiceAccount username is written as four quoted pieces
 * (prefix, namespace, ':', name) so that kustomize can set the namespace and the name separately
 * (config/default/operator_identity_replacements.yaml splits the expression at its quotes: pieces 3 and 7).
 */
export function operatorExcluded(username: string): string {
  const quote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  const expected = serviceAccount
    ? `(${quote('system:serviceaccount:')} + ${quote(serviceAccount[1] ?? '')} + ':' + ${quote(serviceAccount[2] ?? '')})`
    : quote(username);
  return `request.userInfo.username != ${expected}`;
}

/** True when every field `desired` sets has the same value in `actual` (the server adds defaults). */
export function isSubsetOf(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      desired.length === actual.length &&
      desired.every((item, i) => isSubsetOf(item, actual[i]))
    );
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([key, value]) => isSubsetOf(value, (actual as Record<string, unknown>)[key]));
  }
  return desired === actual;
}

export interface ConfigurationSyncOptions {
  client: KubeClient;
  settings: WebhookConfigurationSettings;
  certificates: CertificateSource;
  clock: Clock;
  log: Logger;
  /** Whether the replica named in a CA's subject still exists (e.g. an operator pod of that name). */
  isLiveIdentity?: (identity: string) => boolean;
  /** Re-check this often, repairing a configuration someone else changed or deleted. Default 60 s. */
  resyncIntervalMs?: number;
}

export type SyncOutcome = 'unchanged' | 'created' | 'updated';

/** One pass over both configurations: create or repair each. Conflicts are retried by re-reading. */
export async function syncWebhookConfigurations(
  options: ConfigurationSyncOptions,
): Promise<{ mutating: SyncOutcome; validating: SyncOutcome }> {
  const own = options.certificates.caCertificates();
  const apply = async (which: 'mutating' | 'validating'): Promise<SyncOutcome> => {
    const kind = which === 'mutating' ? Kinds.MutatingWebhookConfiguration : Kinds.ValidatingWebhookConfiguration;
    const name = which === 'mutating' ? options.settings.mutatingName : options.settings.validatingName;
    for (let attempt = 1; ; attempt++) {
      const live = await options.client.get<WebhookConfiguration>(kind, name);
      const liveBundle = live?.webhooks?.[0]?.clientConfig.caBundle;
      const caBundle =
        own === undefined
          ? liveBundle // caBundle belongs to cert-manager's CA injector: carry it over untouched.
          : mergeCaBundle({
              existing: liveBundle,
              own,
              ownIdentity: options.certificates.identity,
              nowMs: options.clock.now(),
              isLiveIdentity: options.isLiveIdentity,
            });
      const webhooks = desiredWebhooks(options.settings, caBundle)[which];
      try {
        if (!live) {
          await options.client.create<WebhookConfiguration>(kind, {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: kind.kind,
            metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'sgp-operator' } },
            webhooks,
          });
          return 'created';
        }
        if (isSubsetOf(webhooks, live.webhooks)) return 'unchanged';
        await options.client.mergePatch(kind, name, { webhooks }, { resourceVersion: live.metadata.resourceVersion });
        return 'updated';
      } catch (error) {
        // Another replica wrote in between (or created it first): read again and merge with its CA.
        if (error instanceof KubeConflictError && attempt < 5) continue;
        throw error;
      }
    }
  };
  const [mutating, validating] = await Promise.all([apply('mutating'), apply('validating')]);
  return { mutating, validating };
}

/**
 * Keeps both configurations current on every replica (each replica must publish its own CA, so this is
 * not leader-only): at start, whenever the certificate source changes, and every resync interval.
 */
export function createWebhookConfigurationSync(options: ConfigurationSyncOptions): Runnable {
  const intervalMs = options.resyncIntervalMs ?? 60_000;
  return {
    name: 'webhook-configuration-sync',
    needLeaderElection: false,
    async start(signal) {
      let wake: (() => void) | undefined;
      let dirty = true;
      options.certificates.onChange(() => {
        dirty = true;
        wake?.();
      });
      while (!signal.aborted) {
        if (dirty) {
          dirty = false;
          try {
            const outcome = await syncWebhookConfigurations(options);
            if (outcome.mutating !== 'unchanged' || outcome.validating !== 'unchanged') {
              options.log.info('synced webhook configurations', outcome);
            }
          } catch (error) {
            dirty = true;
            options.log.error('cannot sync webhook configurations', { error });
          }
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, dirty ? Math.min(5_000, intervalMs) : intervalMs);
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          }
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        dirty = true;
      }
    },
  };
}
