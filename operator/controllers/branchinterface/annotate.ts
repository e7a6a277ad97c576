/**
 * (associated) → Ready: write the `vpc.amazonaws.com/pod-eni` annotation the VPC CNI waits for.
 *
 * The patch is a JSON patch whose first operation tests /metadata/uid against spec.podUid, so the API
 * server itself refuses to annotate a pod recreated under the same name (a StatefulSet replica): that pod
 * would otherwise be wired to an ENI that is about to be released. The pod is read live first: the cache's
 * lean copy cannot tell whether the pod has an annotations map at all, and JSON patch needs to know (adding
 * a key under a missing map fails; adding the whole map replaces one that appeared meanwhile, which the
 * extra resourceVersion test rules out).
 */
import { POD_ENI_ANNOTATION } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import { withContext } from '../../errors.ts';
import type { JsonPatchOperation, KubeObject } from '../../framework/types.ts';
import { setCondition } from '../../framework/index.ts';
import { branchAllocationDurationSeconds, branchOperationsTotal } from '../../observability/metrics.ts';
import type { BranchStatus, StepContext } from './step.ts';
import { podKeyOf } from './step.ts';

export type AnnotateResult =
  /** `status` is undefined when the branch is already recorded Ready. */
  | { outcome: 'ready'; status: Partial<BranchStatus> | undefined }
  /** The pod is gone or is a namesake with another UID: nothing annotated; the release path takes over. */
  | { outcome: 'pod-replaced' };

/** RFC 6901: '~' → '~0', '/' → '~1'. */
function pointerToken(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export async function annotatePod(
  context: StepContext,
  annotation: string,
  needsPatch: boolean,
): Promise<AnnotateResult> {
  const { branch, deps } = context;
  const podKey = podKeyOf(branch);
  if (needsPatch) {
    try {
      const live = await deps.client.get<KubeObject>(Kinds.Pod, podKey);
      if (!live || live.metadata.uid !== branch.spec.podUid) return { outcome: 'pod-replaced' };
      if (live.metadata.annotations?.[POD_ENI_ANNOTATION] === annotation) return ready(context, annotation);
      const operations: JsonPatchOperation[] = [{ op: 'test', path: '/metadata/uid', value: branch.spec.podUid }];
      if (live.metadata.annotations) {
        // 'add' on an existing member replaces it (RFC 6902 §4.1).
        operations.push({
          op: 'add',
          path: `/metadata/annotations/${pointerToken(POD_ENI_ANNOTATION)}`,
          value: annotation,
        });
      } else {
        operations.push(
          { op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion ?? '' },
          { op: 'add', path: '/metadata/annotations', value: { [POD_ENI_ANNOTATION]: annotation } },
        );
      }
      await deps.client.jsonPatch(Kinds.Pod, podKey, operations);
      branchOperationsTotal.inc({ operation: 'annotate', result: 'success' });
      const createdMs = Date.parse(live.metadata.creationTimestamp ?? '');
      if (Number.isFinite(createdMs)) {
        branchAllocationDurationSeconds.observe(Math.max(0, deps.clock.now() - createdMs) / 1000);
      }
      context.log.info('annotated pod', { pod: podKey, eni: branch.status?.eniId, vlan: branch.status?.vlanId });
    } catch (error) {
      branchOperationsTotal.inc({ operation: 'annotate', result: 'error' });
      deps.events.annotationFailed(branch, error);
      throw withContext(`annotating pod ${podKey} with branch ENI ${branch.status?.eniId}`, error);
    }
  }
  return ready(context, annotation);
}

function ready(context: StepContext, annotation: string): AnnotateResult {
  const { branch, deps } = context;
  if (branch.status?.phase === 'Ready') return { outcome: 'ready', status: undefined };
  deps.events.allocated(branch, annotation);
  const nowIso = new Date(deps.clock.now()).toISOString();
  return {
    outcome: 'ready',
    status: {
      phase: 'Ready',
      conditions: setCondition(
        branch.status?.conditions,
        {
          type: 'Ready',
          status: 'True',
          reason: 'Allocated',
          message: `branch ENI ${branch.status?.eniId} on VLAN ${branch.status?.vlanId} is announced to the pod`,
          observedGeneration: branch.metadata.generation,
        },
        nowIso,
      ),
    },
  };
}
