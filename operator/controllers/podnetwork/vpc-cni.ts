/**
 * Reading how the VPC CNI runs: the environment of the aws-node container of the kube-system/aws-node
 * DaemonSet (ENABLE_IPv6, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, ENI_CONFIG_LABEL_DEF, ENI_CONFIG_ANNOTATION_DEF).
 * One GET at start, needing `get` on that one DaemonSet (config/rbac/vpc_cni_config_role.yaml). Whatever the
 * DaemonSet does not say plainly — missing, forbidden, a value from a ConfigMap or Secret — is "not readable"
 * for that variable, and the options' explicit values are the way to say it.
 */
import { VPC_CNI_CONTAINER_NAME, VPC_CNI_DAEMONSET_NAME, VPC_CNI_DAEMONSET_NAMESPACE } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import { KubeApiError } from '../../framework/index.ts';
import type { KubeClient, KubeObject } from '../../framework/types.ts';
import { OperatorError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { resolvePodNetwork, type PodNetwork, type PodNetworkOptions, type VpcCniEnvironment } from './settings.ts';

interface DaemonSet extends KubeObject {
  spec?: {
    template?: {
      spec?: { containers?: { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[] };
    };
  };
}

/** The literal env values of the aws-node container (entries set through valueFrom are left out). */
export function vpcCniEnvironment(daemonSet: DaemonSet | undefined): VpcCniEnvironment {
  if (daemonSet === undefined) return { readable: false, why: 'it does not exist' };
  const containers = daemonSet.spec?.template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === VPC_CNI_CONTAINER_NAME) ?? containers[0];
  if (container === undefined) return { readable: false, why: 'it has no containers' };
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env.set(variable.name, variable.value);
  }
  return { readable: true, env };
}

async function readVpcCniEnvironment(client: KubeClient): Promise<VpcCniEnvironment> {
  try {
    const daemonSet = await client.get<DaemonSet>(
      Kinds.DaemonSet,
      `${VPC_CNI_DAEMONSET_NAMESPACE}/${VPC_CNI_DAEMONSET_NAME}`,
    );
    return vpcCniEnvironment(daemonSet);
  } catch (error) {
    if (error instanceof KubeApiError && (error.statusCode === 403 || error.statusCode === 401)) {
      return { readable: false, why: `the operator may not read it (HTTP ${error.statusCode})` };
    }
    throw error;
  }
}

/**
 * The pod network for this run. The DaemonSet is read only when an option says `auto`; every choice taken
 * from it (or defaulted because it could not be read) is logged, so the log says why the operator networks
 * pods the way it does.
 */
export async function detectPodNetwork(
  client: KubeClient,
  options: PodNetworkOptions,
  log: Logger,
): Promise<PodNetwork> {
  const needsCni = options.ipFamily === 'auto' || options.customNetworking === 'auto';
  const cni: VpcCniEnvironment = needsCni
    ? await readVpcCniEnvironment(client)
    : { readable: false, why: 'not needed: every choice is explicit' };
  const hasEniConfigCrd = options.customNetworking !== 'disabled' && (await servesEniConfigs(client));
  const { network, notes, problem } = resolvePodNetwork(options, cni, hasEniConfigCrd);
  for (const note of notes) log.info('pod network', { choice: note });
  if (problem !== undefined) throw new OperatorError(problem);
  return network;
}

/** A list of ENIConfigs answers; 404 means the CRD is not installed. */
async function servesEniConfigs(client: KubeClient): Promise<boolean> {
  try {
    await client.list(Kinds.ENIConfig);
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.statusCode === 404) return false;
    throw error;
  }
}
