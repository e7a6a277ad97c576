/**
 * "Why does this pod have (or not have) these groups?" as one pure function over what `kubectl sgp why`
 * read: the pod, its ServiceAccount and namespace, the namespace's policies, the grants, the pod's
 * BranchInterface, its node (Node, TrunkInterface, the node's BranchInterfaces), its events, and optionally
 * the ENI as EC2 shows it. The groups and the next step are decided by the operator's own functions
 * (securityGroupsForPod, planPodBranch, ungrantedPolicies, nodeEligibility), so this cannot disagree with
 * what the operator does; what is left here is reading the BranchInterface's progress and choosing the one
 * thing to tell the user first (next-step.ts).
 */
import { POD_ENI_ANNOTATION, SECURITY_GROUPS_ANNOTATION } from '../../operator/api/constants.ts';
import type { LeanPod } from '../../operator/api/pod.ts';
import { isPodFinished, requestsPodEni, serviceAccountNameOf } from '../../operator/api/pod.ts';
import type {
  BranchInterface,
  CNINode,
  SecurityGroupGrant,
  SecurityGroupPolicy,
  TrunkInterface,
} from '../../operator/api/types.ts';
import type { KubeObject } from '../../operator/framework/types.ts';
import {
  branchUsage,
  desiredSecurityGroups,
  type BranchUsage,
} from '../../operator/controllers/branchinterface/index.ts';
import { nodeEligibility, type NodeObject } from '../../operator/controllers/node/index.ts';
import {
  annotationGroupsForPod,
  planPodBranch,
  securityGroupsForPod,
  ungrantedPolicies,
  type AnnotationRefusal,
  type PodBranchPlan,
  type SecurityGroupAnnotationRule,
} from '../../operator/controllers/pod/index.ts';
import type { InstanceTypeLimits } from '../../operator/limits/index.ts';
import { chooseNextStep, type Verdict } from './next-step.ts';
import { judgePolicies, type PolicyVerdict } from './policies.ts';

/** One core/v1 Event, reduced to what is shown. */
export interface EventSummary {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** RFC 3339; the newest of lastTimestamp, eventTime and creation. */
  lastSeen: string;
}

/** The ENI as EC2 shows it (`--ec2`). */
export interface Ec2Eni {
  eniId: string;
  /** undefined: EC2 does not know the ENI. */
  securityGroupIds: string[] | undefined;
}

export interface PodFacts {
  pod: LeanPod;
  serviceAccount: KubeObject | undefined;
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  policies: readonly SecurityGroupPolicy[];
  grants: readonly SecurityGroupGrant[];
  /** The BranchInterface serving this pod's UID. */
  branch: BranchInterface | undefined;
  node: NodeObject | undefined;
  cniNode: CNINode | undefined;
  trunk: TrunkInterface | undefined;
  /** Limits of the node's instance type from the operator's table; undefined when it lacks the type. */
  limits: InstanceTypeLimits | undefined;
  /** Every BranchInterface on the pod's node (any namespace). */
  nodeBranches: readonly BranchInterface[];
  /** The pod's events, any order. */
  events: readonly EventSummary[];
  /** The operator's annotation rule; undefined when it could not be read (then judged as off, the default). */
  annotationRule: SecurityGroupAnnotationRule | undefined;
  ec2?: Ec2Eni;
}

export interface AnnotationVerdict {
  /** "Pod ns/name" or "ServiceAccount ns/name". */
  carrier: string;
  value: string;
  /** Ids the operator applies from it. */
  allowed: string[];
  refusals: AnnotationRefusal[];
}

export interface BranchSummary {
  name: string;
  phase: string;
  eniId?: string;
  vlanId?: number;
  privateIp?: string;
  subnetId?: string;
  subnetCidr?: string;
  /** Groups the operator wants on the ENI (spec) and those EC2 last confirmed (status). */
  securityGroups: string[];
  appliedSecurityGroups?: string[];
  conditions: { type: string; status: string; reason: string; message: string }[];
}

export interface NodeSummary {
  name: string;
  /** Whether the operator manages a trunk there (a TrunkInterface exists), and if not, why. */
  managed: boolean;
  eligibility: string;
  trunk?: { state: string; eniId?: string; message?: string };
  usage?: BranchUsage;
}

export interface PodExplanation {
  kind: 'PodExplanation';
  pod: {
    namespace: string;
    name: string;
    uid: string;
    node?: string;
    phase?: string;
    serviceAccount: string;
    requestsPodEni: boolean;
    hostNetwork: boolean;
    /** The vpc.amazonaws.com/pod-eni annotation the VPC CNI reads, as written. */
    podEniAnnotation?: string;
  };
  policies: PolicyVerdict[];
  annotations: AnnotationVerdict[];
  /** What the operator decides for the pod now: its groups (sorted) and where they come from. */
  groups: { securityGroups: string[]; sources: string[] };
  decision: { action: PodBranchPlan['action']; reason: string; message?: string };
  branch?: BranchSummary;
  node?: NodeSummary;
  ec2?: { eniId: string; found: boolean; securityGroupIds: string[]; drift: boolean };
  events: EventSummary[];
  verdict: Verdict;
  /** One line: where the pod stands. */
  summary: string;
  /** The single next thing to fix (a problem) or to wait for. */
  nextStep?: string;
  /** What could not be read or was assumed. */
  notes: string[];
}

/** How many of the newest events are shown. */
export const EVENTS_SHOWN = 8;

export function explainPod(facts: PodFacts): PodExplanation {
  const { pod, branch } = facts;
  const namespace = pod.metadata.namespace ?? '';
  const serviceAccountName = serviceAccountNameOf(pod);
  const notes: string[] = [];
  const rule = facts.annotationRule ?? { isEnabled: false, allowList: [] };
  const scope = { namespaceLabels: facts.namespaceLabels, rule };
  const annotated = [pod.metadata.annotations, facts.serviceAccount?.metadata.annotations].some(
    (annotations) => annotations?.[SECURITY_GROUPS_ANNOTATION] !== undefined,
  );
  if (!facts.annotationRule && annotated) {
    notes.push(
      "the operator's --enable-security-group-annotations setting could not be read; judged as off (the default)",
    );
  }

  const match = securityGroupsForPod(pod, facts.serviceAccount, facts.policies, scope);
  const plan = planPodBranch({
    pod,
    isNodeManaged: facts.trunk !== undefined,
    match,
    policies: facts.policies,
    branch,
    ungranted: ungrantedPolicies(facts.policies, match.matchedPolicies, {
      grants: facts.grants,
      namespace,
      namespaceLabels: facts.namespaceLabels,
    }),
  });
  const policies = judgePolicies(facts.policies, {
    pod,
    serviceAccount: facts.serviceAccount,
    serviceAccountName,
    grants: facts.grants,
    namespaceLabels: facts.namespaceLabels,
  });
  const annotations = annotationVerdicts(pod, facts.serviceAccount, scope);
  const node = nodeSummary(facts);
  const ec2 = facts.ec2 && ec2Summary(facts.ec2, branch, facts.trunk);
  const events = [...facts.events]
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0))
    .slice(0, EVENTS_SHOWN);

  const explanation: Omit<PodExplanation, 'verdict' | 'summary' | 'nextStep'> = {
    kind: 'PodExplanation',
    pod: {
      namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid ?? '',
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
      serviceAccount: serviceAccountName,
      requestsPodEni: requestsPodEni(pod),
      hostNetwork: pod.spec?.hostNetwork === true,
      ...(pod.metadata.annotations?.[POD_ENI_ANNOTATION] !== undefined
        ? { podEniAnnotation: pod.metadata.annotations[POD_ENI_ANNOTATION] }
        : {}),
    },
    policies,
    annotations,
    groups: { securityGroups: [...match.groupIds].sort(), sources: match.matchedPolicies },
    decision: {
      action: plan.action,
      reason: plan.reason,
      ...('message' in plan && plan.message ? { message: plan.message } : {}),
    },
    ...(branch ? { branch: branchSummary(branch) } : {}),
    ...(node ? { node } : {}),
    ...(ec2 ? { ec2 } : {}),
    events,
    notes,
  };
  const next = chooseNextStep({
    explanation,
    isFinished: isPodFinished(pod) || pod.metadata.deletionTimestamp !== undefined,
    matchedAnything: match.matchedPolicies.length > 0,
    plan,
    allEvents: facts.events,
  });
  return { ...explanation, ...next };
}

function annotationVerdicts(
  pod: LeanPod,
  serviceAccount: KubeObject | undefined,
  scope: Parameters<typeof annotationGroupsForPod>[2],
): AnnotationVerdict[] {
  const namespace = pod.metadata.namespace ?? '';
  const carriers = [
    { carrier: `Pod ${namespace}/${pod.metadata.name}`, object: { metadata: pod.metadata }, isPod: true },
    ...(serviceAccount
      ? [
          {
            carrier: `ServiceAccount ${namespace}/${serviceAccount.metadata.name}`,
            object: serviceAccount,
            isPod: false,
          },
        ]
      : []),
  ];
  return carriers.flatMap(({ carrier, object, isPod }) => {
    const value = object.metadata.annotations?.[SECURITY_GROUPS_ANNOTATION];
    if (value === undefined) return [];
    // The operator's own judgement, one carrier at a time: the other carrier's annotation left out.
    const judged = isPod
      ? annotationGroupsForPod(pod, undefined, scope)
      : annotationGroupsForPod({ metadata: { name: pod.metadata.name, namespace } }, serviceAccount, scope);
    return [{ carrier, value, allowed: judged.groupIds, refusals: judged.refusals }];
  });
}

function branchSummary(branch: BranchInterface): BranchSummary {
  const status = branch.status;
  return {
    name: branch.metadata.name,
    phase: status?.phase ?? 'Pending',
    ...(status?.eniId ? { eniId: status.eniId } : {}),
    ...(status?.vlanId !== undefined ? { vlanId: status.vlanId } : {}),
    ...(status?.privateIp ? { privateIp: status.privateIp } : {}),
    ...(status?.subnetId ? { subnetId: status.subnetId } : {}),
    ...(status?.subnetCidr ? { subnetCidr: status.subnetCidr } : {}),
    securityGroups: branch.spec.securityGroups ?? [],
    ...(status?.appliedSecurityGroups ? { appliedSecurityGroups: status.appliedSecurityGroups } : {}),
    conditions: (status?.conditions ?? []).map(({ type, status: value, reason, message }) => ({
      type,
      status: value,
      reason,
      message,
    })),
  };
}

function nodeSummary(facts: PodFacts): NodeSummary | undefined {
  const nodeName = facts.pod.spec?.nodeName;
  if (!nodeName) return undefined;
  if (!facts.node) {
    return { name: nodeName, managed: false, eligibility: `node ${nodeName} does not exist` };
  }
  const eligibility = nodeEligibility({ node: facts.node, cniNode: facts.cniNode, limits: facts.limits });
  const trunk = facts.trunk;
  const capacity = trunk?.status?.branchCapacity;
  return {
    name: nodeName,
    managed: trunk !== undefined,
    eligibility: eligibility.managed
      ? `eligible (${eligibility.instanceType}, opted in by ${eligibility.optIn === 'cninode-feature' ? 'its CNINode feature' : 'the legacy label'})`
      : eligibility.message,
    ...(trunk
      ? {
          trunk: {
            state: trunk.status?.state ?? 'Pending',
            ...(trunk.status?.eniId ? { eniId: trunk.status.eniId } : {}),
            ...(trunk.status?.state !== 'Ready' && trunkMessage(trunk) ? { message: trunkMessage(trunk) } : {}),
          },
        }
      : {}),
    ...(capacity !== undefined ? { usage: branchUsage(facts.nodeBranches, capacity) } : {}),
  };
}

function trunkMessage(trunk: TrunkInterface): string | undefined {
  const conditions = trunk.status?.conditions ?? [];
  return (conditions.find((condition) => condition.status !== 'True') ?? conditions[0])?.message;
}

/** The ENI's groups in EC2 against those the operator last applied (or wants, before it applied any). */
function ec2Summary(
  eni: Ec2Eni,
  branch: BranchInterface | undefined,
  trunk: TrunkInterface | undefined,
): PodExplanation['ec2'] {
  const found = eni.securityGroupIds !== undefined;
  const actual = [...(eni.securityGroupIds ?? [])].sort();
  const applied = [
    ...(branch?.status?.appliedSecurityGroups ?? (branch ? desiredSecurityGroups(branch, trunk) : [])),
  ].sort();
  const drift = found && (actual.length !== applied.length || actual.some((id, index) => id !== applied[index]));
  return { eniId: eni.eniId, found, securityGroupIds: actual, drift };
}
