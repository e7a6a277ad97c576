/**
 * Events of the node controller, on the Node (kubectl describe node shows them). A node reconciles on every
 * Node update, so an unchanged verdict would repeat its event each time; identical repeats for one node are
 * sent once until the message changes or the node goes.
 */
import type { EventRecorder } from '../../framework/types.ts';
import { Reason } from '../../observability/reasons.ts';
import type { NodeEvent } from './eligibility.ts';
import { nodeEventTarget } from './node-object.ts';

export class NodeEvents {
  readonly #recorder: EventRecorder;
  /** node name → reason → last message sent. */
  readonly #last = new Map<string, Map<string, string>>();

  constructor(recorder: EventRecorder) {
    this.#recorder = recorder;
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
    this.#last.delete(nodeName);
    this.#recorder.forget('Node', '', nodeName);
  }

  #send(nodeName: string, event: NodeEvent): void {
    let sent = this.#last.get(nodeName);
    if (sent === undefined) this.#last.set(nodeName, (sent = new Map()));
    if (sent.get(event.reason) === event.message) return;
    sent.set(event.reason, event.message);
    this.#recorder.event(nodeEventTarget(nodeName), event.type, event.reason, event.message);
  }
}
