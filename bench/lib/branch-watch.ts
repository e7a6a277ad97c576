/**
 * Where a new pod's time goes before its annotation, seen through a watch on the namespace's BranchInterfaces:
 * when each pod's BranchInterface first appeared (the pod controller's work), when it first recorded an ENI
 * (a warm ENI taken over, or one created and associated), and whether that ENI was taken over
 * (`status.reusedFrom`). Times are performance.now(), the clock of ./pod-watch.ts.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';

import { apiVersionOf, Kinds } from '../../operator/api/kinds.ts';
import type { BranchInterface } from '../../operator/api/types.ts';

export interface BranchTimes {
  /** The BranchInterface first seen. */
  createdAt: number;
  /** status.eniId first seen. */
  eniRecordedAt?: number;
  /** The ENI was a warm one taken over. */
  reused: boolean;
}

export interface BranchWatch {
  /** By pod name. */
  times(podName: string): BranchTimes | undefined;
  stop(): void;
}

export async function watchBranches(kubeConfig: KubeConfig, namespace: string): Promise<BranchWatch> {
  const byPod = new Map<string, BranchTimes>();
  const onEvent = (_type: string, branch: BranchInterface) => {
    const now = performance.now();
    const podName = branch.spec?.podName;
    if (!podName) return;
    const times = byPod.get(podName) ?? { createdAt: now, reused: false };
    if (times.eniRecordedAt === undefined && branch.status?.eniId) {
      times.eniRecordedAt = now;
      times.reused = branch.status.reusedFrom !== undefined;
    }
    byPod.set(podName, times);
  };
  let stopped = false;
  let controller: AbortController | undefined;
  const path = `/apis/${apiVersionOf(Kinds.BranchInterface)}/namespaces/${namespace}/branchinterfaces`;
  const start = async (): Promise<void> => {
    controller = await new Watch(kubeConfig).watch(path, {}, onEvent, () => {
      // The apiserver ends watches after a while; resume (events missed meanwhile are re-listed as ADDED).
      if (!stopped) void start();
    });
  };
  await start();
  return {
    times: (podName) => byPod.get(podName),
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
