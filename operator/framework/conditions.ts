/** Status conditions as metav1.Condition: one entry per type, lastTransitionTime moves only on a status change. */
import type { Condition } from './meta.ts';

export type { Condition };

/**
 * Returns the conditions with `condition` set (pure; the input is not modified). The transition time is
 * `nowIso` only when the status changes (or the type is new); a changed reason or message alone keeps the
 * old time, as apimachinery's meta.SetStatusCondition does. Order of other entries is preserved.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  condition: Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string },
  nowIso: string,
): Condition[] {
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === condition.type);
  const lastTransitionTime =
    existing && existing.status === condition.status
      ? existing.lastTransitionTime
      : (condition.lastTransitionTime ?? nowIso);
  const next: Condition = { ...condition, lastTransitionTime };
  if (!existing) return [...list, next];
  return list.map((c) => (c.type === condition.type ? next : c));
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
