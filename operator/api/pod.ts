/**
 * The operator's view of a Pod, and the informer options every controller shares for Pods and
 * BranchInterfaces. The operator watches every pod in the cluster, so the cache keeps a lean projection
 * (as EKS's controller does, docs/architecture.md#where-state-lives): only what matching, branch allocation and release read.
 * One definition here means one shared informer (the manager dedupes by kind and selectors) and one index
 * layout, whichever controller asks first.
 */
import type { InformerOptions } from '../framework/types.ts';
import { POD_ENI_RESOURCE } from './constants.ts';
import { Kinds } from './kinds.ts';
import type { BranchInterface, OwnerReference } from './types.ts';

/** Prefix of every annotation and extended resource the VPC CNI and EKS define on pods. */
const VPC_PREFIX = 'vpc.amazonaws.com/';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** The first container, reduced to its vpc.amazonaws.com/* requests and limits (what the VPC CNI reads). */
export interface LeanContainer {
  name: string;
  resources?: {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
  };
}

export interface LeanPod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    /** Kept for the allocation-latency metric (pod creation → annotation). */
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    /** Only vpc.amazonaws.com/* annotations. */
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec?: {
    nodeName?: string;
    serviceAccountName?: string;
    hostNetwork?: boolean;
    /** At most one element: containers[0], the only container the VPC CNI looks at. */
    containers?: LeanContainer[];
  };
  status?: {
    phase?: PodPhase;
  };
}

function pickVpcKeys(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  const kept = Object.entries(map).filter(([key]) => key.startsWith(VPC_PREFIX));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * Projects a full Pod (as the API server sends it) onto {@link LeanPod}. Accepts a LeanPod-shaped object
 * carrying any extra fields; everything not listed in LeanPod is dropped.
 */
export function toLeanPod(pod: LeanPod): LeanPod {
  const { metadata, spec, status } = pod;
  const first = spec?.containers?.[0];
  const requests = pickVpcKeys(first?.resources?.requests);
  const limits = pickVpcKeys(first?.resources?.limits);
  const container: LeanContainer | undefined = first
    ? { name: first.name, ...(requests || limits ? { resources: { requests, limits } } : {}) }
    : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      creationTimestamp: metadata.creationTimestamp,
      deletionTimestamp: metadata.deletionTimestamp,
      labels: metadata.labels,
      annotations: pickVpcKeys(metadata.annotations),
      ownerReferences: metadata.ownerReferences,
    },
    spec: {
      nodeName: spec?.nodeName,
      serviceAccountName: spec?.serviceAccountName,
      hostNetwork: spec?.hostNetwork,
      containers: container ? [container] : [],
    },
    status: { phase: status?.phase },
  };
}

/**
 * Whether containers[0] asks for a branch ENI. The VPC CNI looks at `limits` (docs/compatibility.md#the-pod-eni-resource); an
 * extended resource set only in `requests` is rejected by the API server unless limits match, so either
 * map answers the same question. A quantity of 0 is no request.
 */
export function requestsPodEni(pod: LeanPod): boolean {
  const resources = pod.spec?.containers?.[0]?.resources;
  for (const map of [resources?.limits, resources?.requests]) {
    for (const [key, value] of Object.entries(map ?? {})) {
      if (key.startsWith(POD_ENI_RESOURCE) && Number(value) > 0) return true;
    }
  }
  return false;
}

/** Succeeded and Failed pods hold no network: their branch ENI is released (EKS fix for Jobs, issue #33). */
export function isPodFinished(pod: LeanPod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** ServiceAccount the pod runs as; the API server defaults an empty name to 'default'. */
export function serviceAccountNameOf(pod: LeanPod): string {
  return pod.spec?.serviceAccountName || 'default';
}

/** Pods by `spec.nodeName` (unscheduled pods are in no bucket). */
export const POD_NODE_NAME_INDEX = 'nodeName';

/** The shared Pod informer: lean projection, indexed by node name. */
export const podInformerOptions: InformerOptions<LeanPod> = {
  kind: Kinds.Pod,
  transform: toLeanPod,
  indexers: {
    [POD_NODE_NAME_INDEX]: (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []),
  },
};

/** BranchInterfaces by `spec.nodeName`: the branches sharing one trunk (VLANs, capacity). */
export const BRANCH_NODE_NAME_INDEX = 'nodeName';
/** BranchInterfaces by the pod they serve, as "namespace/podName" (any UID; check spec.podUid). */
export const BRANCH_POD_INDEX = 'pod';

/**
 * The shared BranchInterface informer. A BranchInterface records one pod's branch ENI (see its type), so
 * its indexes live beside the pod's: the pod controller finds a pod's branch by BRANCH_POD_INDEX, the
 * branch controller finds a trunk's branches by BRANCH_NODE_NAME_INDEX.
 */
export const branchInterfaceInformerOptions: InformerOptions<BranchInterface> = {
  kind: Kinds.BranchInterface,
  indexers: {
    [BRANCH_NODE_NAME_INDEX]: (branch) => (branch.spec?.nodeName ? [branch.spec.nodeName] : []),
    [BRANCH_POD_INDEX]: (branch) =>
      branch.spec?.podName ? [`${branch.metadata.namespace ?? ''}/${branch.spec.podName}`] : [],
  },
};
