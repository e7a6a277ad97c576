/**
 * TrunkEvents drops identical repeats per node and reason, and forgets a gone node entirely: a node of the
 * same name registered later is told again, and the recorder drops its bookkeeping for the node.
 */
import { expect, test } from '@jest/globals';
import { TrunkEvents } from '../../../../operator/controllers/trunkinterface/events.ts';
import { FakeRecorder } from '../../../kit/kube.ts';

test('identical repeats are sent once per node and reason; after forget they are sent again', () => {
  const recorder = new FakeRecorder();
  const events = new TrunkEvents(recorder);
  events.initiated('node-a', 'eni-1');
  events.initiated('node-a', 'eni-1');
  events.initiated('node-b', 'eni-2');
  events.noFreeSlot('node-a', 'no slot');
  events.initiated('node-a', 'eni-1');
  expect(recorder.events.map((e) => `${e.name} ${e.reason}`)).toEqual([
    'node-a NodeTrunkInitiated',
    'node-b NodeTrunkInitiated',
    'node-a NoFreeENISlot',
  ]);

  events.forget('node-a');
  events.initiated('node-a', 'eni-1');
  events.initiated('node-b', 'eni-2');
  expect(recorder.events.map((e) => `${e.name} ${e.reason}`).slice(3)).toEqual(['node-a NodeTrunkInitiated']);
  expect(recorder.forgotten).toEqual(['Node//node-a']);
});
