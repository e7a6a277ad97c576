/**
 * Events of the trunk controller. They go on the Node (what `kubectl describe node` shows, as EKS does);
 * identical repeats for one node are sent once, so a failing node retried with back-off does not flood the
 * API server with the same line (the recorder would aggregate them, but each still costs a write).
 */
import { Ec2Error, Ec2LimitError, Ec2UnauthorizedError } from '../../aws/index.ts';
import { ChangedEventSender, nodeEventTarget } from '../../framework/index.ts';
import type { EventRecorder, EventType } from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';

export class TrunkEvents {
  readonly #sender: ChangedEventSender;

  constructor(recorder: EventRecorder) {
    this.#sender = new ChangedEventSender(recorder, nodeEventTarget);
  }

  initiated(nodeName: string, eniId: string): void {
    this.#sender.send(
      nodeName,
      'Normal',
      Reason.NodeTrunkInitiated,
      `The node has trunk interface ${eniId} initialized successfully`,
    );
  }

  creationFailed(nodeName: string, error: unknown): void {
    this.#sender.send(nodeName, 'Warning', Reason.TrunkENICreationFailed, trunkFailureMessage(error));
    this.#sender.send(nodeName, 'Normal', Reason.NodeTrunkFailedInit, 'The node failed initializing trunk interface');
  }

  noFreeSlot(nodeName: string, message: string): void {
    this.#sender.send(nodeName, 'Warning', Reason.NoFreeENISlot, message);
  }

  branchCleanupFailed(nodeName: string, message: string): void {
    this.#sender.send(nodeName, 'Warning', Reason.NodeBranchCleanupFailed, message);
  }

  /** The VPC's CIDR blocks or the zone's pod subnets changed (see status.ts networkEvents). */
  networkChanged(nodeName: string, reason: string, message: string): void {
    this.#sender.send(nodeName, 'Normal', reason, message);
  }

  /** Where the node's branch ENIs go changed, or cannot be followed (./pod-network-sync.ts). */
  podNetwork(
    nodeName: string,
    type: EventType,
    reason:
      | typeof Reason.PodNetworkChanged
      | typeof Reason.ENIConfigNotFound
      | typeof Reason.ENIConfigInvalid
      | typeof Reason.CustomNetworkingIgnored
      | typeof Reason.SubnetWithoutIPv6Block
      | typeof Reason.SecurityGroupsUpdateFailed,
    message: string,
  ): void {
    this.#sender.send(nodeName, type, reason, message);
  }

  /** The node is gone: forget what was sent. */
  forget(nodeName: string): void {
    this.#sender.forget(nodeName);
  }
}

/**
 * "Failed to create trunk interface: Error Code: <code>" as EKS words it, plus what to do. Unauthorized gets
 * the IAM hint and the allow-list hint: outside EKS, the trunk ENI APIs only work for accounts AWS has
 * enabled for ENI trunking.
 */
export function trunkFailureMessage(error: unknown): string {
  if (!(error instanceof Ec2Error)) {
    return `Failed to create trunk interface: ${error instanceof Error ? error.message : String(error)}`;
  }
  const base = `Failed to create trunk interface: Error Code: ${error.code} (${error.action}): ${error.message}`;
  if (error instanceof Ec2UnauthorizedError) {
    return (
      `${base}. Please verify the operator's IAM role has the AmazonEKSVPCResourceController policy ` +
      `(ec2:CreateNetworkInterface, AttachNetworkInterface, ModifyNetworkInterfaceAttribute, ` +
      `CreateNetworkInterfacePermission, DescribeInstances) and that the account is allow-listed for ENI ` +
      `trunking (the trunk APIs work for EKS clusters and accounts AWS has enabled; ask AWS support otherwise)`
    );
  }
  if (error instanceof Ec2LimitError) {
    return error.isSubnetExhausted
      ? `${base}. The node's subnet has no free IP address; free addresses or move the node to a larger subnet`
      : `${base}. An ENI limit or quota was reached; raise the quota or free ENIs on the instance`;
  }
  return base;
}
