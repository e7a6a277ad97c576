/**
 * Events of the branch lifecycle. They go to the pod (that is where `kubectl describe pod` users look, and
 * where EKS writes them), addressed by the BranchInterface's pod name and UID so a recreated namesake
 * never receives its predecessor's events. Reasons and wording follow EKS where it has them (docs/compatibility.md#events).
 */
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { BranchInterface } from '../../api/types.ts';
import type { EventRecorder, KubeObject } from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';
import { formatDuration } from './cooldown.ts';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function groupList(groups: readonly string[]): string {
  return `[${groups.join(' ')}]`;
}

export class BranchEvents {
  readonly #recorder: EventRecorder;

  constructor(recorder: EventRecorder) {
    this.#recorder = recorder;
  }

  /** EKS: Normal ResourceAllocated "Allocated <json> to the pod". */
  allocated(branch: BranchInterface, annotation: string): void {
    this.#emit(branch, 'Normal', Reason.ResourceAllocated, `Allocated ${annotation} to the pod`);
  }

  /** EKS: Warning BranchAllocationFailed "failed to allocate branch ENI to pod: <err>". */
  allocationFailed(branch: BranchInterface, error: unknown): void {
    this.#emit(
      branch,
      'Warning',
      Reason.BranchAllocationFailed,
      `failed to allocate branch ENI to pod: ${messageOf(error)}`,
    );
  }

  /** EKS: Warning BranchENIAnnotationFailed "failed to annotate pod with branch ENI details: <err>". */
  annotationFailed(branch: BranchInterface, error: unknown): void {
    this.#emit(
      branch,
      'Warning',
      Reason.BranchENIAnnotationFailed,
      `failed to annotate pod with branch ENI details: ${messageOf(error)}`,
    );
  }

  /** The node's subnet is exhausted; the branch ENI is created in a subnet tagged for pods instead. */
  subnetFallback(branch: BranchInterface, message: string): void {
    this.#emit(branch, 'Normal', Reason.BranchENISubnetFallback, message);
  }

  atCapacity(branch: BranchInterface, holding: number, capacity: number, cooldownMs: number): void {
    this.#emit(
      branch,
      'Normal',
      Reason.BranchENICapacityReached,
      `node ${branch.spec.nodeName} holds ${holding} of its ${capacity} branch ENIs (in use or cooling down); ` +
        `the pod gets one when another pod's ENI is released (cooldown ${formatDuration(cooldownMs)})`,
    );
  }

  groupsUpdated(branch: BranchInterface, eniId: string, groups: readonly string[], previous: readonly string[]): void {
    this.#emit(
      branch,
      'Normal',
      Reason.SecurityGroupsUpdated,
      `branch ENI ${eniId} now carries security groups ${groupList(groups)} (was ${groupList(previous)}), ` +
        'applied without restarting the pod',
    );
  }

  groupsUpdateFailed(branch: BranchInterface, eniId: string, groups: readonly string[], error: unknown): void {
    this.#emit(
      branch,
      'Warning',
      Reason.SecurityGroupsUpdateFailed,
      `could not set security groups ${groupList(groups)} on branch ENI ${eniId}; it keeps its previous groups: ${messageOf(error)}`,
    );
  }

  /** The groups exceed the per-ENI quota; `message` names the policies, the groups and the quota. */
  groupQuotaExceeded(branch: BranchInterface, message: string): void {
    this.#emit(branch, 'Warning', Reason.SecurityGroupQuotaExceeded, message);
  }

  #emit(branch: BranchInterface, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const pod: KubeObject = {
      apiVersion: apiVersionOf(Kinds.Pod),
      kind: 'Pod',
      metadata: { name: branch.spec.podName, namespace: branch.metadata.namespace, uid: branch.spec.podUid },
    };
    this.#recorder.event(pod, type, reason, message);
  }
}
