/**
 * TrunkInterface status as data. Pure: each function returns a new status, and the reconciler writes it with
 * the framework's patchStatusIfChanged (one patch, only when something changed).
 */
import type { TrunkInterface, TrunkState } from '../../api/types.ts';
import { setCondition } from '../../framework/index.ts';

export type TrunkStatus = NonNullable<TrunkInterface['status']>;

export const READY_CONDITION = 'Ready';

/** Condition reasons of Ready; a closed set (CamelCase, as metav1.Condition wants). */
export type ReadyReason =
  | 'TrunkAttached'
  | 'Creating'
  | 'Attaching'
  | 'InstanceNotRunning'
  | 'InstanceNotFound'
  | 'NoFreeENISlot'
  | 'TrunkENICreationFailed'
  | 'UnsupportedInstanceType'
  | 'NodeGone';

export interface Progress {
  state: TrunkState;
  reason: ReadyReason;
  message: string;
}

/** `status` with the state and Ready condition of `progress`, plus any field updates. */
export function withProgress(
  trunk: TrunkInterface,
  status: TrunkStatus,
  progress: Progress,
  nowIso: string,
  fields: Partial<TrunkStatus> = {},
): TrunkStatus {
  const generation = trunk.metadata.generation;
  return {
    ...status,
    ...fields,
    state: progress.state,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setCondition(
      status.conditions,
      {
        type: READY_CONDITION,
        status: progress.state === 'Ready' ? 'True' : 'False',
        reason: progress.reason,
        message: progress.message,
        ...(generation !== undefined ? { observedGeneration: generation } : {}),
      },
      nowIso,
    ),
  };
}

/** The fields that describe the trunk ENI, dropped when a failed attempt's ENI was deleted. */
export function withoutEni(status: TrunkStatus): TrunkStatus {
  const rest = { ...status };
  delete rest.eniId;
  delete rest.attachmentId;
  return rest;
}

/** A Ready trunk whose status we can trust without asking EC2 (it was verified recently). */
export function isSettled(trunk: TrunkInterface): boolean {
  const status = trunk.status;
  return (
    status?.state === 'Ready' &&
    status.eniId !== undefined &&
    status.subnetCidr !== undefined &&
    status.observedGeneration === trunk.metadata.generation
  );
}
