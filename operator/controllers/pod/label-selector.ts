/**
 * Kubernetes label selectors (metav1.LabelSelector) as pure functions. Semantics follow apimachinery's
 * LabelSelectorAsSelector: matchLabels and every matchExpression must hold (AND); an empty selector `{}`
 * matches everything; In/NotIn need at least one value, Exists/DoesNotExist take none. A malformed
 * selector matches nothing (apimachinery returns an error there, and EKS's lookup then fails).
 */
import type { LabelSelector, LabelSelectorRequirement } from '../../api/types.ts';

const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function requirementProblem(requirement: LabelSelectorRequirement, index: number): string | undefined {
  const where = `matchExpressions[${index}] (key ${JSON.stringify(requirement.key)})`;
  if (!requirement.key) return `matchExpressions[${index}] has no key`;
  if (!OPERATORS.has(requirement.operator)) {
    return `${where} has operator ${JSON.stringify(requirement.operator)}; use In, NotIn, Exists or DoesNotExist`;
  }
  const valueCount = requirement.values?.length ?? 0;
  if ((requirement.operator === 'In' || requirement.operator === 'NotIn') && valueCount === 0) {
    return `${where} uses ${requirement.operator} without values`;
  }
  if ((requirement.operator === 'Exists' || requirement.operator === 'DoesNotExist') && valueCount > 0) {
    return `${where} uses ${requirement.operator} with values; it takes none`;
  }
  return undefined;
}

/** Every reason the selector is malformed; empty when it is well-formed. */
export function labelSelectorProblems(selector: LabelSelector): string[] {
  const problems: string[] = [];
  (selector.matchExpressions ?? []).forEach((requirement, index) => {
    const problem = requirementProblem(requirement, index);
    if (problem) problems.push(problem);
  });
  return problems;
}

function requirementHolds(requirement: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(labels[requirement.key] ?? '');
    case 'NotIn':
      return !has || !values.includes(labels[requirement.key] ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default: {
      const unknown: never = requirement.operator;
      return unknown;
    }
  }
}

/** One requirement of a well-formed selector that the labels fail, with what the labels hold for its key. */
export type SelectorMismatch =
  | { kind: 'matchLabels'; key: string; value: string; actual: string | undefined }
  | { kind: 'matchExpressions'; index: number; requirement: LabelSelectorRequirement; actual: string | undefined };

/**
 * Every requirement of `selector` that `labels` fail (an absent label map is an empty one): matchLabels
 * first, then matchExpressions in order. Empty when the labels satisfy it. For a malformed selector, see
 * labelSelectorProblems: it matches nothing whatever this says.
 */
export function selectorMismatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): SelectorMismatch[] {
  const actual = labels ?? {};
  const mismatches: SelectorMismatch[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) mismatches.push({ kind: 'matchLabels', key, value, actual: actual[key] });
  }
  (selector.matchExpressions ?? []).forEach((requirement, index) => {
    if (!requirementHolds(requirement, actual)) {
      mismatches.push({ kind: 'matchExpressions', index, requirement, actual: actual[requirement.key] });
    }
  });
  return mismatches;
}

/** Whether `labels` satisfy `selector` (an absent label map is an empty one). */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return labelSelectorProblems(selector).length === 0 && selectorMismatches(selector, labels).length === 0;
}

/**
 * One mismatch in words, naming whose labels (`pod`, `ServiceAccount default`): "matchLabels app=db: pod has
 * app=web", "matchExpressions[0] tier In [gold, silver]: pod has no label tier".
 */
export function describeSelectorMismatch(mismatch: SelectorMismatch, whose: string): string {
  if (mismatch.kind === 'matchLabels') {
    const has = mismatch.actual === undefined ? `no label ${mismatch.key}` : `${mismatch.key}=${mismatch.actual}`;
    return `matchLabels ${mismatch.key}=${mismatch.value}: ${whose} has ${has}`;
  }
  const { key, operator, values } = mismatch.requirement;
  const wanted =
    operator === 'In' || operator === 'NotIn'
      ? `${key} ${operator} [${(values ?? []).join(', ')}]`
      : `${key} ${operator}`;
  const has = mismatch.actual === undefined ? `no label ${key}` : `${key}=${mismatch.actual}`;
  return `matchExpressions[${mismatch.index}] ${wanted}: ${whose} has ${has}`;
}
