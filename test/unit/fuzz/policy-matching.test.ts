/**
 * Property tests: hostile SecurityGroupPolicies and pods thrown at the pure matching and validation
 * functions. They must never throw, never invent a group, never duplicate one, and every policy they
 * refuse must come with a reason and a message that names it.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { LabelSelector, LabelSelectorRequirement } from '../../../operator/framework/meta.ts';
import { labelSelectorProblems, matchesLabelSelector } from '../../../operator/controllers/pod/label-selector.ts';
import {
  NO_MATCH_MESSAGE,
  policySkipReason,
  securityGroupsForPod,
} from '../../../operator/controllers/pod/matching.ts';
import {
  validatePolicyGroups,
  validatePolicySpec,
} from '../../../operator/controllers/securitygrouppolicy/validation.ts';
import {
  FUZZ_PARAMETERS,
  groupId,
  hugeLabels,
  labels,
  policy,
  policyMissingFields,
  selector,
  SG_ID,
  wellFormedRequirement,
} from './arbitraries.ts';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** apimachinery's semantics, written independently of the code under test. */
function oracle(sel: LabelSelector, podLabels: Record<string, string>): boolean {
  const own = (key: string) => Object.prototype.hasOwnProperty.call(podLabels, key);
  const ok = (r: LabelSelectorRequirement) => {
    const values = r.values ?? [];
    if (r.operator === 'In') return own(r.key) && values.includes(podLabels[r.key] as string);
    if (r.operator === 'NotIn') return !own(r.key) || !values.includes(podLabels[r.key] as string);
    if (r.operator === 'Exists') return own(r.key);
    return !own(r.key);
  };
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => own(k) && podLabels[k] === v) &&
    (sel.matchExpressions ?? []).every(ok)
  );
}

const pod = fc.record({
  metadata: fc.record(
    { namespace: fc.constantFrom('default', 'catalog', 'orders', ''), labels: labels() },
    { requiredKeys: [] },
  ),
});
const serviceAccount = fc.option(fc.record({ metadata: fc.record({ labels: labels() }, { requiredKeys: [] }) }), {
  nil: undefined,
});

describe('label selectors under hostile input', () => {
  test('a malformed selector matches nothing and every problem names the expression and the fix', () => {
    fc.assert(
      fc.property(selector, labels(), (sel, podLabels) => {
        const problems = labelSelectorProblems(sel);
        const malformed = (sel.matchExpressions ?? []).filter(
          (r) =>
            !r.key ||
            !OPERATORS.includes(r.operator) ||
            ((r.operator === 'In' || r.operator === 'NotIn') && (r.values ?? []).length === 0) ||
            ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && (r.values ?? []).length > 0),
        );
        expect(problems).toHaveLength(malformed.length);
        for (const problem of problems) expect(problem).toMatch(/^matchExpressions\[\d+\]/);
        for (const problem of problems.filter((p) => p.includes('operator'))) {
          expect(problem).toContain('use In, NotIn, Exists or DoesNotExist');
        }
        const matched = matchesLabelSelector(sel, podLabels);
        if (problems.length > 0) expect(matched).toBe(false);
        else expect(matched).toBe(oracle(sel, podLabels));
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('well-formed selectors agree with apimachinery semantics, prototype keys included', () => {
    fc.assert(
      fc.property(
        fc.record({ matchLabels: labels(3), matchExpressions: fc.array(wellFormedRequirement, { maxLength: 4 }) }),
        labels(),
        (sel, podLabels) => {
          expect(labelSelectorProblems(sel)).toEqual([]);
          expect(matchesLabelSelector(sel, podLabels)).toBe(oracle(sel, podLabels));
        },
      ),
      FUZZ_PARAMETERS,
    );
  });

  test('huge label sets on pods and selectors are handled', () => {
    fc.assert(
      fc.property(hugeLabels, (huge) => {
        expect(matchesLabelSelector({ matchLabels: huge }, huge)).toBe(true);
        expect(matchesLabelSelector({ matchLabels: { ...huge, extra: 'x' } }, huge)).toBe(false);
        expect(matchesLabelSelector({}, huge)).toBe(true);
      }),
      { ...FUZZ_PARAMETERS, numRuns: 20 },
    );
  });
});

describe('securityGroupsForPod under hostile policies', () => {
  test('never throws; returns only groups the selecting policies declared, each once, with a reason', () => {
    fc.assert(
      fc.property(
        pod,
        serviceAccount,
        fc.array(fc.oneof({ weight: 4, arbitrary: policy }, { weight: 1, arbitrary: policyMissingFields }), {
          maxLength: 8,
        }),
        (p, sa, policies) => {
          const match = securityGroupsForPod(p, sa, policies);
          expect(new Set(match.groupIds).size).toBe(match.groupIds.length);
          for (const id of match.groupIds) expect(id).toMatch(SG_ID);
          const usable = policies.filter(
            (pol) => (pol.metadata.namespace ?? '') === (p.metadata.namespace ?? '') && !policySkipReason(pol),
          );
          const declared = new Set(usable.flatMap((pol) => pol.spec.securityGroups.groupIds));
          for (const id of match.groupIds) expect(declared.has(id)).toBe(true);
          for (const name of match.matchedPolicies) {
            expect(usable.some((pol) => pol.metadata.name === name)).toBe(true);
          }
          if (match.reason === 'PoliciesMatched') {
            expect(match.groupIds.length).toBeGreaterThan(0);
            expect(match.message).toContain(match.groupIds[0]);
          } else {
            expect(match.groupIds).toEqual([]);
            expect(match.message).toBe(NO_MATCH_MESSAGE);
            expect(match.reason).toBe(usable.length > 0 ? 'NoPolicyMatched' : 'NoPolicies');
          }
          // Cache order never changes the answer.
          expect(securityGroupsForPod(p, sa, [...policies].reverse())).toEqual(match);
        },
      ),
      FUZZ_PARAMETERS,
    );
  });

  test('a pod with thousands of labels against many policies', () => {
    fc.assert(
      fc.property(hugeLabels, fc.array(policy, { minLength: 1, maxLength: 30 }), (huge, policies) => {
        const match = securityGroupsForPod({ metadata: { namespace: 'catalog', labels: huge } }, undefined, policies);
        expect(new Set(match.groupIds).size).toBe(match.groupIds.length);
      }),
      { ...FUZZ_PARAMETERS, numRuns: 20 },
    );
  });
});

describe('SecurityGroupPolicy validation under hostile policies', () => {
  test('spec verdicts: every refusal names the policy and says what to fix', () => {
    fc.assert(
      fc.property(fc.oneof(policy, policyMissingFields), (pol) => {
        const verdict = validatePolicySpec(pol);
        // Deletion is the pod side's concern; the spec verdict is about the spec alone.
        const live = { ...pol, metadata: { ...pol.metadata, deletionTimestamp: undefined } };
        const skip = policySkipReason(live);
        if (verdict === undefined) {
          expect(skip).toBeUndefined();
          return;
        }
        expect(verdict.valid).toBe(false);
        expect(verdict.reason).toBe(skip);
        expect(verdict.message).toContain(`SecurityGroupPolicy ${pol.metadata.namespace ?? ''}/`);
        expect(verdict.message.length).toBeGreaterThan(40);
        expect(verdict.resolvedGroupIds).toEqual([]);
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('group verdicts: resolved ids are exactly the wanted ones found in the VPC, sorted and unique', () => {
    const found = fc.array(fc.record({ id: groupId, vpcId: fc.constantFrom('vpc-1', 'vpc-2') }), { maxLength: 8 });
    fc.assert(
      fc.property(policy, found, (pol, groups) => {
        const ec2Groups = groups.map((g) => ({ ...g, name: g.id, description: '', tags: {} })) as never[];
        const verdict = validatePolicyGroups(pol, ec2Groups, 'vpc-1');
        const wanted = [...new Set(pol.spec.securityGroups.groupIds)];
        const inVpc = new Set(groups.filter((g) => g.vpcId === 'vpc-1').map((g) => g.id));
        const byId = new Map(groups.map((g) => [g.id, g.vpcId]));
        expect(verdict.resolvedGroupIds).toEqual(wanted.filter((id) => byId.get(id) === 'vpc-1').sort());
        expect(new Set(verdict.resolvedGroupIds).size).toBe(verdict.resolvedGroupIds.length);
        for (const id of verdict.resolvedGroupIds) expect(inVpc.has(id)).toBe(true);
        const bad = wanted.filter((id) => byId.get(id) !== 'vpc-1');
        expect(verdict.valid).toBe(bad.length === 0);
        for (const id of bad) expect(verdict.message).toContain(id);
      }),
      FUZZ_PARAMETERS,
    );
  });
});
