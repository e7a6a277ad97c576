/** Waiting for the operator's node-side work: every managed node's TrunkInterface Ready. */
import { Kinds } from '../../operator/api/kinds.ts';
import type { TrunkInterface } from '../../operator/api/types.ts';
import type { KubeClient } from '../../operator/framework/index.ts';
import { progress } from './report.ts';
import { waitFor } from './world.ts';

export async function waitTrunksReady(client: KubeClient, count: number, timeoutMs: number): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      const trunks = await client.list<TrunkInterface>(Kinds.TrunkInterface);
      const ready = trunks.filter((trunk) => trunk.status?.state === 'Ready').length;
      if (ready !== last) progress(`trunks Ready: ${ready}/${count}`);
      last = ready;
      return ready >= count;
    },
    timeoutMs,
    `${count} TrunkInterfaces Ready`,
  );
}

/** m5.xlarge: 18 branch ENIs per trunk (operator/limits/instance-types.json). */
export const M5_XLARGE_BRANCHES = 18;
