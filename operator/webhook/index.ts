/**
 * The admission webhooks for pods: what the composition root and tests may use.
 *
 * Composition (operator/operator.ts):
 *   const certificates = options.webhookCertDir
 *     ? await createDirectoryCertificateSource({ dir: options.webhookCertDir, log })
 *     : createSelfSignedCertificateSource({ hosts: serviceDnsNames, identity: podName, clock, log });
 *   const server = setupWebhook(deps, {
 *     address: { host: '0.0.0.0', port: 9443 },
 *     certificates,
 *     configuration: { ...defaultConfigurationSettings, operatorUsername, target: { service: { namespace, name, port: 443 } } },
 *     operatorUsernames: [operatorUsername, ...EKS_CONTROLLER_USERNAMES],
 *   });
 * (--strict-pod-eni-resource and the security-group annotation rule come from deps.settings.)
 */
import { Kinds } from '../api/kinds.ts';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../api/types.ts';
import type { ControllerDeps } from '../controllers/deps.ts';
import type { KubeObject } from '../framework/types.ts';
import type { CertificateSource } from './certificates.ts';
import {
  createWebhookConfigurationSync,
  DEFAULT_NAMESPACE_SELECTOR,
  MUTATING_CONFIGURATION_NAME,
  VALIDATING_CONFIGURATION_NAME,
  type WebhookConfigurationSettings,
} from './configuration.ts';
import { setupMissingResourceController } from './missing-resource.ts';
import { matchPodPolicies, type PodPolicyMatcher, type ServiceAccountLike } from './mutate.ts';
import { createWebhookServer, type WebhookServer } from './server.ts';

export * from './admission.ts';
export { mergeCaBundle, splitPems } from './ca-bundle.ts';
export {
  createDirectoryCertificateSource,
  createSelfSignedCertificateSource,
  nextRotationStep,
  DEFAULT_ACTIVATION_DELAY_MS,
  DEFAULT_CERTIFICATE_VALIDITY_MS,
} from './certificates.ts';
export type { CertificateSource, ServingMaterial, SelfSignedOptions, DirectoryOptions } from './certificates.ts';
export {
  createWebhookConfigurationSync,
  desiredWebhooks,
  operatorExcluded,
  podEniAnnotationTouched,
  syncWebhookConfigurations,
  DEFAULT_NAMESPACE_SELECTOR,
  MUTATE_POD_PATH,
  MUTATING_CONFIGURATION_NAME,
  VALIDATE_ANNOTATIONS_PATH,
  VALIDATE_POD_PATH,
  VALIDATE_POLICY_PATH,
  VALIDATING_CONFIGURATION_NAME,
} from './configuration.ts';
export type { ClientTarget, WebhookConfigurationSettings } from './configuration.ts';
export {
  createMissingResourceReconciler,
  decideMissingPodEni,
  setupMissingResourceController,
} from './missing-resource.ts';
export { decidePodMutation, matchPodPolicies, mayUseAnnotations, podEniResourcePatch } from './mutate.ts';
export type { PodPolicyMatcher, ServiceAccountLike } from './mutate.ts';
export { createWebhookServer } from './server.ts';
export type { WebhookServer, WebhookServerOptions } from './server.ts';
export { decidePodValidation, EKS_CONTROLLER_USERNAMES } from './validate.ts';
export { decidePolicyAdmission } from './validate-policy.ts';
export type { PolicyAdmissionInputs } from './validate-policy.ts';
export {
  ANNOTATION_PLACES,
  decideSecurityGroupAnnotationAdmission,
  securityGroupsAnnotationOf,
} from './validate-annotations.ts';
export type { AnnotatedObject, AnnotationAdmission, AnnotationAdmissionInputs } from './validate-annotations.ts';

/** Settings of the two configurations apart from where they point and who the operator is. */
export const defaultConfigurationSettings: Omit<WebhookConfigurationSettings, 'target' | 'operatorUsername'> = {
  mutatingName: MUTATING_CONFIGURATION_NAME,
  validatingName: VALIDATING_CONFIGURATION_NAME,
  namespaceSelector: DEFAULT_NAMESPACE_SELECTOR,
  // Every namespace: one not opted in is what the annotation webhooks must refuse, and a pod-eni annotation
  // forged outside the policy namespaces is wired by the CNI all the same (matchConditions keep objects
  // without the annotation from calling the operator at all).
  annotationNamespaceSelector: {},
  failurePolicy: 'Fail',
  // As config/webhook/manifests.yaml: well under the API server's 30 s ceiling, so a stuck replica fails fast.
  timeoutSeconds: 5,
};

export interface WebhookOptions {
  address: { host: string; port: number };
  certificates: CertificateSource;
  /** Undefined leaves the configurations to someone else (e.g. applied from config/webhook by kustomize). */
  configuration: WebhookConfigurationSettings | undefined;
  operatorUsernames: readonly string[];
  matcher?: PodPolicyMatcher;
  /** Whether the replica named in a CA's subject still exists (prunes dead replicas' CAs from caBundle). */
  isLiveIdentity?: (identity: string) => boolean;
}

/**
 * Adds the HTTPS server and the configuration sync (every replica) and the missing-resource check
 * (a controller, leader-only like every controller) to the manager.
 */
export function setupWebhook(deps: ControllerDeps, options: WebhookOptions): WebhookServer {
  const matcher = options.matcher ?? matchPodPolicies;
  // --enable-security-group-annotations and its allow-list; --strict-pod-eni-resource.
  const { securityGroupAnnotations, strictPodEniResource } = deps.settings;
  const log = deps.log.child({ component: 'webhook' });
  const server = createWebhookServer({
    address: options.address,
    tls: options.certificates,
    matcher,
    operatorUsernames: options.operatorUsernames,
    policies: deps.manager.informer<SecurityGroupPolicy>({ kind: Kinds.SecurityGroupPolicy }),
    serviceAccounts: deps.manager.informer<ServiceAccountLike & KubeObject>({ kind: Kinds.ServiceAccount }),
    namespaces: deps.manager.informer<KubeObject>({ kind: Kinds.Namespace }),
    securityGroupAnnotations,
    grants: deps.manager.informer<SecurityGroupGrant>({ kind: Kinds.SecurityGroupGrant }),
    log,
  });
  deps.manager.add(server);
  if (options.configuration) {
    deps.manager.add(
      createWebhookConfigurationSync({
        client: deps.client,
        settings: options.configuration,
        certificates: options.certificates,
        clock: deps.clock,
        log,
        isLiveIdentity: options.isLiveIdentity,
      }),
    );
  }
  setupMissingResourceController(deps, { matcher, isStrict: strictPodEniResource, securityGroupAnnotations });
  return server;
}
