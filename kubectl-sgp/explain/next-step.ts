/**
 * Where a pod stands and the single next thing to fix (or to wait for), chosen from the explanation in the
 * order the pod's network is built: scheduled → selected → asks for a branch ENI → its node has a trunk →
 * its policies are valid and granted → the operator decided its groups → its branch ENI has a VLAN, exists,
 * is associated, carries the groups → the pod is annotated → EC2 agrees. The first step not done is the one
 * reported: fixing a later one first would not help. Pure.
 */
import type { PodBranchPlan } from '../../operator/controllers/pod/index.ts';
import type { BranchUsage } from '../../operator/controllers/branchinterface/index.ts';
import type { EventSummary, PodExplanation } from './pod.ts';

export type Verdict =
  /** The pod has its branch ENI with the groups its policies give. */
  | 'ok'
  /** Nothing selects the pod: it has the node's security groups, as intended unless a next step says otherwise. */
  | 'not-selected'
  /** Something is under way (scheduling, validation, creation, capacity): nothing to fix yet. */
  | 'waiting'
  /** Something must be fixed; nextStep says what. */
  | 'problem'
  /** Finished, terminating or host-network pods: security groups for pods do not apply. */
  | 'not-applicable';

export interface NextStepInput {
  explanation: Omit<PodExplanation, 'verdict' | 'summary' | 'nextStep'>;
  isFinished: boolean;
  /** A policy (or an allowed annotation) selects the pod. */
  matchedAnything: boolean;
  plan: PodBranchPlan;
  allEvents: readonly EventSummary[];
}

export interface NextStep {
  verdict: Verdict;
  summary: string;
  nextStep?: string;
}

/** Warning events that say a branch step failed, newest first. */
const FAILURE_REASONS = ['BranchAllocationFailed', 'BranchENIAnnotationFailed', 'SecurityGroupsUpdateFailed'];

export function chooseNextStep(input: NextStepInput): NextStep {
  const { explanation: x, plan } = input;
  const pod = `${x.pod.namespace}/${x.pod.name}`;
  if (input.isFinished) {
    return {
      verdict: 'not-applicable',
      summary: `pod ${pod} has finished or is terminating: it holds no network; a branch ENI it had is released after the cooldown`,
    };
  }
  if (x.pod.hostNetwork) {
    return {
      verdict: 'not-applicable',
      summary: `pod ${pod} uses the host network, so it has the node's ENIs and security groups; SecurityGroupPolicies do not apply to it`,
    };
  }
  if (!x.pod.node) {
    return {
      verdict: 'waiting',
      summary: `pod ${pod} is not scheduled yet`,
      nextStep:
        'wait for the scheduler; if the pod stays Pending, `kubectl describe pod` says why (Insufficient ' +
        'vpc.amazonaws.com/pod-eni: no node with a trunk has a free branch ENI, see `kubectl sgp nodes`)',
    };
  }
  const refusal = x.annotations.flatMap((annotation) => annotation.refusals.map((r) => r.message)).join('; ');

  if (!input.matchedAnything && !x.pod.requestsPodEni) {
    return { verdict: 'not-selected', summary: notSelectedSummary(x, false), ...notSelectedNext(x, refusal) };
  }
  if (input.matchedAnything && !x.pod.requestsPodEni) {
    return {
      verdict: 'problem',
      summary:
        `${selectors(x)} selects pod ${pod}, but it does not request vpc.amazonaws.com/pod-eni, so it runs with the ` +
        "node's security groups",
      nextStep:
        'delete the pod so its controller recreates it: the sgp-operator webhook adds the request at creation (it ' +
        'was down, or the pod is older than the policy)',
    };
  }

  const nodeStep = nodeNextStep(x, plan);
  if (nodeStep) return nodeStep;

  switch (plan.action) {
    case 'hold':
      return { verdict: 'problem', summary: `pod ${pod} is held: ${holdSummary(x)}`, nextStep: plan.message };
    case 'wait':
      return { verdict: 'waiting', summary: `pod ${pod} waits: ${plan.message}`, nextStep: plan.message };
    case 'create':
      return {
        verdict: 'waiting',
        summary: `sgp-operator has not created pod ${pod}'s BranchInterface yet`,
        nextStep:
          `wait a few seconds for its BranchInterface (groups ${list(plan.securityGroups)}); if none appears, ` +
          'check that sgp-operator runs and read its log',
      };
    case 'update':
      if (plan.reason !== 'PoliciesChanged') {
        return {
          verdict: 'waiting',
          summary: `pod ${pod}'s groups are changing to ${list(plan.securityGroups)}`,
          nextStep: 'wait: sgp-operator changes the branch ENI’s groups in place (no restart)',
        };
      }
      break;
    case 'none':
      break;
    default: {
      const unknown: never = plan;
      throw new Error(`unhandled plan ${JSON.stringify(unknown)}`);
    }
  }

  const branchStep = branchNextStep(x, input.allEvents);
  if (branchStep) return branchStep;
  if (refusal) {
    return {
      verdict: 'problem',
      summary: `pod ${pod} has its branch ENI, but some groups its annotations ask for were refused`,
      nextStep: refusal,
    };
  }
  const branch = x.branch;
  if (!input.matchedAnything) {
    return { verdict: 'not-selected', summary: notSelectedSummary(x, true), ...notSelectedNext(x, '') };
  }
  return {
    verdict: 'ok',
    summary:
      `pod ${pod} has branch ENI ${branch?.eniId} (VLAN ${branch?.vlanId}, ${branch?.privateIp}) with security ` +
      `groups ${list(x.groups.securityGroups)} from ${x.groups.sources.join(', ')}`,
  };
}

function nodeNextStep(x: NextStepInput['explanation'], plan: PodBranchPlan): NextStep | undefined {
  const node = x.node;
  if (!node) return undefined;
  if (plan.action === 'wait' && plan.reason === 'NodeNotManaged') {
    if (node.eligibility.startsWith('eligible')) {
      return {
        verdict: 'waiting',
        summary: `node ${node.name} is eligible but has no TrunkInterface yet`,
        nextStep: `wait for sgp-operator to create TrunkInterface ${node.name}; if none appears, check that the operator runs`,
      };
    }
    return {
      verdict: 'problem',
      summary: `pod ${x.pod.namespace}/${x.pod.name} is on node ${node.name}, which has no trunk ENI: ${node.eligibility}`,
      nextStep: nodeFix(node.eligibility, node.name),
    };
  }
  if (node.trunk && node.trunk.state !== 'Ready' && !x.branch?.eniId) {
    const detail = node.trunk.message ? `: ${node.trunk.message}` : '';
    return node.trunk.state === 'Failed'
      ? {
          verdict: 'problem',
          summary: `node ${node.name}'s trunk ENI could not be set up${detail}`,
          nextStep: node.trunk.message ?? `see \`kubectl describe trunkinterface ${node.name}\``,
        }
      : {
          verdict: 'waiting',
          summary: `node ${node.name}'s trunk ENI is being set up (${node.trunk.state})`,
          nextStep: 'wait for the trunk; pods on the node get their branch ENIs once it is Ready',
        };
  }
  return undefined;
}

/** The fix for a node that cannot get a trunk, by what its eligibility message says. */
function nodeFix(eligibility: string, nodeName: string): string {
  if (eligibility.includes('has neither the CNINode feature')) {
    return (
      `opt node ${nodeName} in: run the VPC CNI with ENABLE_POD_ENI=true (it adds the SecurityGroupsForPods ` +
      'feature to the node’s CNINode), or schedule the pod on a node that has it (`kubectl sgp nodes`)'
    );
  }
  return `${eligibility}; schedule the pod on an eligible node (\`kubectl sgp nodes\`)`;
}

function branchNextStep(x: NextStepInput['explanation'], allEvents: readonly EventSummary[]): NextStep | undefined {
  const branch = x.branch;
  const pod = `${x.pod.namespace}/${x.pod.name}`;
  if (!branch) return undefined;
  const condition = (type: string) => branch.conditions.find((c) => c.type === type);
  const quota = condition('SecurityGroupsApplied');
  if (quota?.status === 'False') {
    return { verdict: 'problem', summary: `pod ${pod}'s groups cannot be applied`, nextStep: quota.message };
  }
  const failure = [...allEvents]
    .filter((event) => event.type === 'Warning' && FAILURE_REASONS.includes(event.reason))
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0))[0];
  if (branch.phase !== 'Ready') {
    if (condition('Ready')?.reason === 'NodeAtCapacity' && x.node?.usage) {
      return {
        verdict: 'waiting',
        summary: `pod ${pod} waits for a branch ENI: ${usageText(x.node.name, x.node.usage)}`,
        nextStep:
          'a branch is freed when a pod on the node goes and its cooldown passes; to start sooner, delete pods ' +
          'there that no longer need theirs, or make room on another node with a trunk (`kubectl sgp nodes`)',
      };
    }
    if (failure) {
      return {
        verdict: 'problem',
        summary: `pod ${pod}'s branch ENI is stuck in ${branch.phase}`,
        nextStep: failure.message,
      };
    }
    return {
      verdict: 'waiting',
      summary: `pod ${pod}'s branch ENI is being set up (${branch.phase})`,
      nextStep: 'wait a few seconds; `kubectl get branchinterface` shows its progress',
    };
  }
  if (x.pod.podEniAnnotation === undefined) {
    return failure?.reason === 'BranchENIAnnotationFailed'
      ? { verdict: 'problem', summary: `pod ${pod} is not annotated`, nextStep: failure.message }
      : {
          verdict: 'waiting',
          summary: `pod ${pod}'s branch ENI is ready; the vpc.amazonaws.com/pod-eni annotation is being written`,
          nextStep: 'wait a moment: the VPC CNI wires the pod once the annotation is there',
        };
  }
  const applied = branch.appliedSecurityGroups;
  if (
    applied &&
    list([...applied].sort()) !== list([...branch.securityGroups].sort()) &&
    branch.securityGroups.length
  ) {
    return failure?.reason === 'SecurityGroupsUpdateFailed'
      ? { verdict: 'problem', summary: `pod ${pod}'s new groups were refused by EC2`, nextStep: failure.message }
      : {
          verdict: 'waiting',
          summary: `pod ${pod}'s branch ENI is getting groups ${list(branch.securityGroups)} (has ${list(applied)})`,
          nextStep: 'wait: the groups are changed in place',
        };
  }
  if (x.ec2 && !x.ec2.found) {
    return {
      verdict: 'problem',
      summary: `EC2 does not know ${x.ec2.eniId}, the branch ENI recorded for pod ${pod}`,
      nextStep:
        'the ENI was deleted outside sgp-operator, so the pod has no network: delete the pod so its controller ' +
        'recreates it with a new branch ENI',
    };
  }
  if (x.ec2?.drift) {
    const applied = branch.appliedSecurityGroups ?? branch.securityGroups;
    return {
      verdict: 'problem',
      summary: `${x.ec2.eniId} carries ${list(x.ec2.securityGroupIds)} in EC2, not ${list(applied)} as sgp-operator applied`,
      nextStep:
        `the groups were changed outside sgp-operator; set them back: aws ec2 modify-network-interface-attribute ` +
        `--network-interface-id ${x.ec2.eniId} --groups ${applied.join(' ')}`,
    };
  }
  return undefined;
}

function notSelectedSummary(x: NextStepInput['explanation'], hasBranch: boolean): string {
  const pod = `${x.pod.namespace}/${x.pod.name}`;
  const none =
    x.policies.length === 0
      ? `namespace ${x.pod.namespace} has no SecurityGroupPolicy`
      : 'no SecurityGroupPolicy selects it';
  return hasBranch
    ? `pod ${pod} gets the node's security groups on branch ENI ${x.branch?.eniId ?? ''}: ${none}`
    : `pod ${pod} uses the node's security groups: ${none}`;
}

/** For a pod nothing selects: the refused annotation, or the nearest policy's first failed requirement. */
function notSelectedNext(x: NextStepInput['explanation'], refusal: string): { nextStep?: string } {
  if (refusal) return { nextStep: refusal };
  const nearest = x.policies
    .filter((policy) => !policy.selects && policy.why.length > 0)
    .sort((a, b) => a.why.length - b.why.length)[0];
  if (!nearest) {
    return {
      nextStep: `if it should have its own groups, create a SecurityGroupPolicy in namespace ${x.pod.namespace} that selects it`,
    };
  }
  return { nextStep: `if it should have SecurityGroupPolicy ${nearest.name}'s groups: ${nearest.why.join('; ')}` };
}

function selectors(x: NextStepInput['explanation']): string {
  const names = x.policies.filter((policy) => policy.selects).map((policy) => policy.name);
  return names.length > 0 ? `SecurityGroupPolicy ${names.join(', ')}` : 'a security-group annotation';
}

function holdSummary(x: NextStepInput['explanation']): string {
  return x.branch
    ? 'it keeps its branch ENI and its current groups until the policy is fixed'
    : 'it gets no branch ENI until the policy is fixed';
}

export function usageText(nodeName: string, usage: BranchUsage): string {
  return (
    `node ${nodeName} holds ${usage.holding} of ${usage.capacity} branch ENIs (${usage.inUse} in use, ` +
    `${usage.coolingDown} cooling down)`
  );
}

function list(ids: readonly string[]): string {
  return `[${ids.join(' ')}]`;
}
