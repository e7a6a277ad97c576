/**
 * A webhook server on 127.0.0.1 wired to the run's kube-apiserver, scoped so it can never affect another
 * test: its two configurations have unique names and select only namespaces carrying this instance's own
 * label (plus the has-policies or annotation opt-in label the webhook in question needs).
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Kinds } from '../../../operator/api/kinds.ts';
import { ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL, POLICY_NAMESPACE_LABEL } from '../../../operator/api/constants.ts';
import type { SecurityGroupPolicy } from '../../../operator/api/types.ts';
import {
  SECURITY_GROUP_ANNOTATIONS_OFF,
  type SecurityGroupAnnotationRule,
} from '../../../operator/controllers/pod/index.ts';
import { createKubeClient, SharedInformer, systemClock, type KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import {
  createSelfSignedCertificateSource,
  createWebhookServer,
  matchPodPolicies,
  syncWebhookConfigurations,
  type ServiceAccountLike,
  type WebhookConfigurationSettings,
  type WebhookServer,
} from '../../../operator/webhook/index.ts';
import { eventually, kubeConfig, testNamespace, uniqueName } from '../harness/index.ts';

export const OPERATOR_USERNAME = 'system:serviceaccount:sgp-system:sgp-operator';
const SCOPE_LABEL = 'sgp-operator.io/webhook-test';

export interface WebhookUnderTest {
  settings: WebhookConfigurationSettings;
  server: WebhookServer;
  client: ReturnType<typeof createKubeClient>;
  core: CoreV1Api;
  policies: SharedInformer<SecurityGroupPolicy>;
  /** A namespace the webhooks select (as if it held a policy; opted in to security group annotations). */
  namespace(options: { hasPolicies: boolean; allowsAnnotations?: boolean }): Promise<string>;
  /** Stops the HTTPS server; the configurations stay, pointing at a closed port. */
  stopServer(): Promise<void>;
  /** Deletes the configurations and stops everything. */
  close(): Promise<void>;
}

export async function startWebhookUnderTest(
  options: { securityGroupAnnotations?: SecurityGroupAnnotationRule } = {},
): Promise<WebhookUnderTest> {
  const scope = uniqueName('wh');
  const client = createKubeClient(kubeConfig());
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const informerDeps = { transport: client.transport, clock: systemClock, log: silentLogger };
  const policies = new SharedInformer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy }, informerDeps);
  const serviceAccounts = new SharedInformer<ServiceAccountLike & KubeObject>(
    { kind: Kinds.ServiceAccount },
    informerDeps,
  );
  const namespaces = new SharedInformer<KubeObject>({ kind: Kinds.Namespace }, informerDeps);
  const informersStop = new AbortController();
  const informersDone = Promise.all([
    policies.start(informersStop.signal),
    serviceAccounts.start(informersStop.signal),
    namespaces.start(informersStop.signal),
  ]);
  await Promise.all([policies.waitForSync(), serviceAccounts.waitForSync(), namespaces.waitForSync()]);

  const certificates = createSelfSignedCertificateSource({
    hosts: ['127.0.0.1'],
    identity: scope,
    clock: systemClock,
    log: silentLogger,
  });
  const server = createWebhookServer({
    address: { host: '127.0.0.1', port: 0 },
    tls: certificates,
    matcher: matchPodPolicies,
    operatorUsernames: [OPERATOR_USERNAME],
    policies,
    serviceAccounts,
    namespaces,
    securityGroupAnnotations: options.securityGroupAnnotations ?? SECURITY_GROUP_ANNOTATIONS_OFF,
    log: silentLogger,
  });
  const serverStop = new AbortController();
  const serverDone = server.start(serverStop.signal);
  await server.listening();
  const settings: WebhookConfigurationSettings = {
    mutatingName: uniqueName('sgp-test-mutating'),
    validatingName: uniqueName('sgp-test-validating'),
    target: { baseUrl: `https://127.0.0.1:${server.address()?.port}` },
    namespaceSelector: { matchLabels: { [POLICY_NAMESPACE_LABEL]: 'true', [SCOPE_LABEL]: scope } },
    annotationNamespaceSelector: { matchLabels: { [SCOPE_LABEL]: scope } },
    operatorUsername: OPERATOR_USERNAME,
    failurePolicy: 'Fail',
    timeoutSeconds: 5,
  };
  await syncWebhookConfigurations({ client, settings, certificates, clock: systemClock, log: silentLogger });

  const stopServer = async (): Promise<void> => {
    serverStop.abort();
    await serverDone;
  };
  return {
    settings,
    server,
    client,
    core,
    policies,
    async namespace({ hasPolicies, allowsAnnotations = false }) {
      const name = await testNamespace('webhook');
      await client.mergePatch(Kinds.Namespace, name, {
        metadata: {
          labels: {
            [SCOPE_LABEL]: scope,
            ...(hasPolicies ? { [POLICY_NAMESPACE_LABEL]: 'true' } : {}),
            ...(allowsAnnotations ? { [ALLOW_SECURITY_GROUP_ANNOTATIONS_LABEL]: 'true' } : {}),
          },
        },
      });
      // The annotation webhooks read namespace labels from the cache: wait until it shows these.
      await eventually(
        () => {
          if (namespaces.get(name)?.metadata.labels?.[SCOPE_LABEL] !== scope) throw new Error('labels not cached yet');
        },
        { waitingFor: `namespace ${name}'s labels in the webhook's cache` },
      );
      return name;
    },
    stopServer,
    async close() {
      await client.delete(Kinds.MutatingWebhookConfiguration, settings.mutatingName);
      await client.delete(Kinds.ValidatingWebhookConfiguration, settings.validatingName);
      await stopServer();
      informersStop.abort();
      await informersDone;
    },
  };
}

export async function createPolicy(
  webhook: WebhookUnderTest,
  namespace: string,
  name: string,
  spec: SecurityGroupPolicy['spec'],
): Promise<void> {
  await webhook.client.create<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy, {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace },
    spec,
  });
  await eventually(
    () => {
      if (!webhook.policies.get(`${namespace}/${name}`)) throw new Error('not in the cache yet');
    },
    { waitingFor: `SecurityGroupPolicy ${namespace}/${name} in the webhook's cache` },
  );
}

export function podBody(
  name: string,
  options: { labels?: Record<string, string>; annotations?: Record<string, string>; serviceAccountName?: string } = {},
): V1Pod {
  return {
    metadata: { name, labels: options.labels, annotations: options.annotations },
    spec: {
      serviceAccountName: options.serviceAccountName,
      automountServiceAccountToken: false,
      containers: [
        { name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { limits: { cpu: '100m' } } },
        { name: 'sidecar', image: 'registry.k8s.io/pause:3.10' },
      ],
    },
  };
}

/**
 * The API server learns about webhook configurations through an informer, a moment after they are
 * written. Dry-run creates of a pod the mutating webhook must patch until the patch shows up.
 */
export async function waitForWebhook(
  webhook: WebhookUnderTest,
  namespace: string,
  labels: Record<string, string>,
): Promise<void> {
  await eventually(
    async () => {
      const pod = await webhook.core.createNamespacedPod({
        namespace,
        body: podBody(uniqueName('marker'), { labels }),
        dryRun: 'All',
      });
      if (pod.spec?.containers[0]?.resources?.limits?.['vpc.amazonaws.com/pod-eni'] !== '1') {
        throw new Error(`marker pod not mutated yet: ${JSON.stringify(pod.spec?.containers[0]?.resources)}`);
      }
    },
    { waitingFor: 'the API server to call the webhook (dry-run marker pod mutated)' },
  );
}

/** The API server's rejection message of a failed client-node call. */
export function rejection(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    return (JSON.parse(text) as { message: string }).message;
  } catch {
    return error instanceof Error ? error.message : String(error);
  }
}
