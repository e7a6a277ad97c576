/**
 * Which pod held which branch ENI, and from when, as the test saw it through watches on the chaos namespace:
 * a pod's `vpc.amazonaws.com/pod-eni` annotation, and a BranchInterface's `status.eniId` (written before the
 * annotation). With warm reuse (docs/warm-branches.md) an ENI's pod-uid tag names only the pod it was created
 * for; the pods that held it later are known only from these records. Times are Date.now() of the test
 * process, the clock the emulator's mutation log uses, taken when the event arrives, so a hold starts at the
 * latest when it is recorded here: a check that counts a hold from `sinceMs` never blames the operator for a
 * moment before the hold existed.
 */
import { Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { POD_ENI_ANNOTATION } from '../../../operator/api/constants.ts';
import { apiVersionOf, Kinds } from '../../../operator/api/kinds.ts';
import type { BranchInterface, PodEniAnnotationEntry } from '../../../operator/api/types.ts';

export interface Hold {
  podUid: string;
  eniId: string;
  /** When the test first saw the record. */
  sinceMs: number;
  /** What recorded it: the pod's annotation, or its BranchInterface's status. */
  via: 'annotation' | 'branch';
}

export interface HoldWatch {
  /** Every (pod, ENI, record) seen so far, first sighting only. */
  holds(): Hold[];
  stop(): void;
}

/** The ENI a pod's annotation names (its first entry), if the annotation parses. */
export function annotatedEniId(pod: V1Pod): string | undefined {
  const raw = pod.metadata?.annotations?.[POD_ENI_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const entries = JSON.parse(raw) as PodEniAnnotationEntry[];
    return Array.isArray(entries) ? entries[0]?.eniId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts both watches. `onAnnotated` runs synchronously when a pod is first seen annotated with an ENI, so
 * the caller can look at that ENI in the emulator at that very moment.
 */
export async function watchHolds(
  kubeConfig: KubeConfig,
  namespace: string,
  onAnnotated: (pod: V1Pod, eniId: string) => void,
): Promise<HoldWatch> {
  const seen = new Map<string, Hold>();
  const record = (podUid: string, eniId: string, via: Hold['via']): boolean => {
    const key = `${via}/${podUid}/${eniId}`;
    if (seen.has(key)) return false;
    seen.set(key, { podUid, eniId, sinceMs: Date.now(), via });
    return true;
  };
  const onPod = (_type: string, pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    const eniId = annotatedEniId(pod);
    if (uid === undefined || eniId === undefined) return;
    if (record(uid, eniId, 'annotation')) onAnnotated(pod, eniId);
  };
  const onBranch = (_type: string, branch: BranchInterface) => {
    const eniId = branch.status?.eniId;
    if (eniId) record(branch.spec.podUid, eniId, 'branch');
  };

  let stopped = false;
  const controllers: AbortController[] = [];
  // The watch hands each event's object over untyped; each handler names the kind its path lists.
  const start = async <T>(path: string, onEvent: (type: string, object: T) => void): Promise<void> => {
    const controller = await new Watch(kubeConfig).watch(path, {}, onEvent, () => {
      // The API server ends watches after a while; resume (what changed meanwhile arrives again as ADDED, and
      // a hold first seen then starts later: the checks only get more lenient, never wrong).
      if (!stopped) void start(path, onEvent);
    });
    controllers.push(controller);
  };
  const branchPath = `/apis/${apiVersionOf(Kinds.BranchInterface)}/namespaces/${namespace}/branchinterfaces`;
  await start(`/api/v1/namespaces/${namespace}/pods`, onPod);
  await start(branchPath, onBranch);
  return {
    holds: () => [...seen.values()],
    stop() {
      stopped = true;
      for (const controller of controllers) controller.abort();
    },
  };
}
