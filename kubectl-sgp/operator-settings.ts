/**
 * The one operator setting an explanation needs that no object carries: whether pods may take groups from
 * the vpc.amazonaws.com/security-groups annotation, and which (--enable-security-group-annotations and its
 * allow-list). Read from the operator's Deployment (label app.kubernetes.io/name=sgp-operator, as
 * config/manager sets it): its manager container's flags and environment (literal values and ConfigMaps),
 * through the operator's own option parser. Secrets are not read; when the Deployment cannot be found or
 * read, the caller says so and judges the annotation as off, the default.
 *
 * Where: --operator-namespace when given; else every namespace, and when RBAC refuses that (the
 * kubectl-sgp-viewer roles grant these reads in the operator's namespace only), config/default's namespace.
 */
import { Kinds } from '../operator/api/kinds.ts';
import type { SecurityGroupAnnotationRule } from '../operator/controllers/pod/index.ts';
import { keyFor } from '../operator/framework/index.ts';
import type { KubeObject, ResourceKind } from '../operator/framework/types.ts';
import { securityGroupAnnotationRuleOf } from '../operator/options.ts';
import type { Reads } from './cluster.ts';

export const OPERATOR_DEPLOYMENT_SELECTOR = 'app.kubernetes.io/name=sgp-operator';
/** Where config/default installs the operator (config/default/namespace.yaml). */
export const INSTALL_NAMESPACE = 'sgp-system';

const DEPLOYMENT: ResourceKind = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
};

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { prefix?: string; configMapRef?: { name: string } }[];
}

interface Deployment extends KubeObject {
  spec?: { template?: { spec?: { containers?: Container[] } } };
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export async function operatorAnnotationRule(
  reads: Reads,
  operatorNamespace?: string,
): Promise<{ rule: SecurityGroupAnnotationRule | undefined; note?: string }> {
  const selector = { labelSelector: OPERATOR_DEPLOYMENT_SELECTOR };
  const searched = operatorNamespace ?? INSTALL_NAMESPACE;
  const everywhere =
    operatorNamespace === undefined ? await reads.listIfAllowed<Deployment>(DEPLOYMENT, selector) : undefined;
  const deployments =
    everywhere ?? (await reads.optionalList<Deployment>(DEPLOYMENT, { ...selector, namespace: searched }));
  const [deployment] = deployments;
  if (!deployment) {
    const where = everywhere ? 'in any namespace' : `in namespace ${searched}`;
    return {
      rule: undefined,
      note: `no Deployment labelled ${OPERATOR_DEPLOYMENT_SELECTOR} ${where} (--operator-namespace names the operator's)`,
    };
  }
  const namespace = deployment.metadata.namespace ?? '';
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const container = containers.find((candidate) => candidate.name === 'manager') ?? containers[0];
  if (!container)
    return { rule: undefined, note: `Deployment ${namespace}/${deployment.metadata.name} has no container` };

  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) continue;
    const configMap = await reads.optionalGet<ConfigMap>(Kinds.ConfigMap, keyFor(namespace, source.configMapRef.name));
    for (const [key, value] of Object.entries(configMap?.data ?? {})) env[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const variable of container.env ?? []) {
    const reference = variable.valueFrom?.configMapKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (reference) {
      const configMap = await reads.optionalGet<ConfigMap>(Kinds.ConfigMap, keyFor(namespace, reference.name));
      const value = configMap?.data?.[reference.key];
      if (value !== undefined) env[variable.name] = value;
    }
  }
  const argv = [...(container.command ?? []).filter((part) => part.startsWith('-')), ...(container.args ?? [])];
  const parsed = securityGroupAnnotationRuleOf(argv, env);
  const where = `Deployment ${namespace}/${deployment.metadata.name}`;
  if ('problems' in parsed) {
    return {
      rule: undefined,
      note: `${where} has invalid annotation settings (${parsed.problems.map((p) => `--${p.flag}: ${p.message}`).join('; ')})`,
    };
  }
  return {
    rule: parsed,
    ...(deployments.length > 1 ? { note: `${deployments.length} sgp-operator Deployments found; read ${where}` } : {}),
  };
}
