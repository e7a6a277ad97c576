/**
 * Events of the node controller, on the Node (kubectl describe node shows them). A node reconciles on every
 * Node update, so an unchanged verdict would repeat its event each time; identical repeats for one node are
 * sent once until the message changes or the node goes.
 */
import { ChangedEventSender, nodeEventTarget } from '../../framework/index.ts';
import type { EventRecorder } from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';
import type { NodeEvent } from './eligibility.ts';

export class NodeEvents {
  readonly #sender: ChangedEventSender;

  constructor(recorder: EventRecorder) {
    this.#sender = new ChangedEventSender(recorder, nodeEventTarget);
  }

  verdict(nodeName: string, event: NodeEvent): void {
    this.#send(nodeName, event);
  }

  cniNodeCreationFailed(nodeName: string, error: unknown): void {
    const message = `creating CNINode ${nodeName} failed, retrying: ${error instanceof Error ? error.message : String(error)}`;
    this.#send(nodeName, { type: 'Warning', reason: Reason.CNINodeCreationFailed, message });
  }

  unmanaged(nodeName: string, message: string): void {
    this.#send(nodeName, { type: 'Normal', reason: Reason.NodeTrunkUnmanaged, message });
  }

  forget(nodeName: string): void {
    this.#sender.forget(nodeName);
  }

  #send(nodeName: string, event: NodeEvent): void {
    this.#sender.send(nodeName, event.type, event.reason, event.message);
  }
}
