/** Events as users see them: `kubectl describe node` shows ours, with repeats counted. */
import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createEventRecorder, createKubeClient } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { createNode, eventually, clusterAccess, uniqueName } from '../harness/index.ts';

test('Node events from the recorder appear in kubectl describe node, aggregated', async () => {
  const name = uniqueName('ip-10-0-9-9');
  const node = await createNode(name);
  const recorder = createEventRecorder({
    client: createKubeClient(clusterAccess()),
    component: 'sgp-operator',
    log: silentLogger,
  });
  const reason = 'TrunkTestReady';
  for (let i = 0; i < 3; i++) {
    recorder.event(
      { apiVersion: 'v1', kind: 'Node', metadata: node.metadata as { name: string; uid?: string } },
      'Normal',
      reason,
      'trunk eni-0abc attached',
    );
  }
  await recorder.flush();
  await eventually(
    () => {
      const output = execFileSync('kubectl', ['describe', 'node', name], {
        env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? '' },
        encoding: 'utf8',
      });
      // Events table row: Type, Reason, Age (with "x3 over"), From, Message.
      expect(output).toMatch(
        new RegExp(`Normal\\s+${reason}\\s+.*\\(x3 over .*\\)\\s+sgp-operator\\s+trunk eni-0abc attached`),
      );
    },
    { timeoutMs: 15_000, waitingFor: 'kubectl describe node to list the aggregated event' },
  );
}, 60_000);
