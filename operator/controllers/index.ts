/**
 * Every controller the operator runs, in one place: reading this file gives the table of contents.
 * Controllers do not know about each other; they meet only through the objects they read and write
 * (a Node's TrunkInterface, a Pod's BranchInterface, the pod annotation).
 */
import { registerBranchInterfaceController } from './branchinterface/index.ts';
import type { ControllerDeps } from './deps.ts';
import { registerGarbageCollection } from './gc/index.ts';
import { registerNodeController } from './node/index.ts';
import { registerPodController } from './pod/index.ts';
import { registerSecurityGroupGrantController } from './securitygroupgrant/index.ts';
import { registerSecurityGroupPolicyController } from './securitygrouppolicy/index.ts';
import { registerTrunkInterfaceController } from './trunkinterface/index.ts';
import { registerVpcNetwork } from './vpcnetwork/index.ts';

export function registerControllers(deps: ControllerDeps): void {
  // The VPC: CIDR blocks, subnets tagged for pods and (for policies naming groups by name) security groups,
  // followed while running (leader-only refresh).
  const subnets = registerVpcNetwork(deps);
  // Nodes: CNINode per node, eligibility, pod-eni capacity; a TrunkInterface per managed node.
  registerNodeController(deps);
  // Trunks: adopt or create the trunk ENI, attach it, report branch capacity and use, and the pod subnets of
  // the node's zone; release on node deletion.
  registerTrunkInterfaceController(deps, subnets);
  // Grants: resolve SecurityGroupGrants' tag rules to group ids (the policy, pod and webhook checks read them).
  registerSecurityGroupGrantController(deps);
  // Policies: resolve groups named by name or tags, validate groups against EC2 and the grants, report matched
  // pods, label namespaces for the webhooks.
  registerSecurityGroupPolicyController(deps, subnets);
  // Pods: which groups a pod gets; a BranchInterface per pod that asks for pod-eni and matches a policy.
  registerPodController(deps);
  // Branches: VLAN and subnet, create + associate the branch ENI, annotate the pod; live group changes;
  // cooldown release.
  registerBranchInterfaceController(deps, subnets);
  // Leader-only sweeps for ENIs no live object owns (two strikes, owner confirmed absent).
  registerGarbageCollection(deps, { intervalMs: deps.settings.leakSweepIntervalMs });
}
