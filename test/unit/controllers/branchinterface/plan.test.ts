import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { BranchInterface, TrunkInterface } from '../../../../operator/api/types.ts';
import type { KubeObject } from '../../../../operator/framework/types.ts';
import { podEniAnnotationValue } from '../../../../operator/controllers/branchinterface/annotation.ts';
import { planBranchStep } from '../../../../operator/controllers/branchinterface/plan.ts';
import type { BranchPlanInput, BranchStep } from '../../../../operator/controllers/branchinterface/plan.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const COOLDOWN = 60_000;
const FINALIZER = 'trunking.sgp-operator.io/branch-cleanup';

const trunk: TrunkInterface = {
  apiVersion: 'trunking.sgp-operator.io/v1alpha1',
  kind: 'TrunkInterface',
  metadata: { name: 'node-a' },
  spec: { nodeName: 'node-a', instanceId: 'i-1', instanceType: 'm5.large' },
  status: {
    state: 'Ready',
    eniId: 'eni-trunk',
    subnetId: 'subnet-1',
    branchCapacity: 9,
    securityGroups: ['sg-node'],
    primaryInterface: {},
  },
};

const created = {
  vlanId: 1,
  eniId: 'eni-b',
  macAddress: '0e:00:00:00:00:01',
  privateIp: '10.0.0.5',
  subnetCidr: '10.0.0.0/24',
};
const associated = { ...created, associationId: 'trunk-assoc-1', appliedSecurityGroups: ['sg-1'] };
const annotation = podEniAnnotationValue(associated) ?? '';

function branch(
  status: BranchInterface['status'],
  extra: { groups?: string[]; finalizer?: boolean; deleting?: boolean } = {},
): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: {
      name: 'web-0',
      namespace: 'catalog',
      uid: 'b-uid',
      finalizers: extra.finalizer === false ? [] : [FINALIZER],
      ...(extra.deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
    },
    spec: { podName: 'web-0', podUid: 'p-uid', nodeName: 'node-a', securityGroups: extra.groups ?? ['sg-1'] },
    status,
  };
}

function pod(extra: { uid?: string; phase?: string; annotation?: string } = {}): LeanPod {
  return {
    metadata: {
      name: 'web-0',
      namespace: 'catalog',
      uid: extra.uid ?? 'p-uid',
      ...(extra.annotation ? { annotations: { 'vpc.amazonaws.com/pod-eni': extra.annotation } } : {}),
    },
    spec: { nodeName: 'node-a' },
    status: { phase: (extra.phase ?? 'Running') as 'Running' },
  };
}

const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'n-uid' } };

/** `t` null means no TrunkInterface (undefined would pick the default); `n` null means the Node is gone. */
function given(
  b: BranchInterface,
  p: LeanPod | undefined,
  t: TrunkInterface | null = trunk,
  n: KubeObject | null = node,
): BranchPlanInput {
  return { branch: b, pod: p, trunk: t ?? undefined, node: n ?? undefined, nowMs: NOW, cooldownMs: COOLDOWN };
}

const requestedAt = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const notReadyTrunk: TrunkInterface = { ...trunk, status: { ...trunk.status, state: 'Attaching' } };

describe('planBranchStep', () => {
  test.each<[string, BranchPlanInput, BranchStep]>([
    ['missing finalizer', given(branch({}, { finalizer: false }), pod()), { step: 'add-finalizer' }],
    [
      'trunk not ready',
      given(branch({}), pod(), notReadyTrunk),
      { step: 'wait-trunk', message: 'trunk of node node-a is Attaching yet' },
    ],
    ['pending: allocate a VLAN', given(branch({ phase: 'Pending' }), pod()), { step: 'allocate-vlan' }],
    [
      'pending, the pod already wired by another controller: adopt its ENI',
      given(branch({ phase: 'Pending' }), pod({ annotation })),
      {
        step: 'adopt',
        entry: {
          eniId: 'eni-b',
          ifAddress: '0e:00:00:00:00:01',
          privateIp: '10.0.0.5',
          ipv6Addr: '',
          vlanId: 1,
          subnetCidr: '10.0.0.0/24',
          subnetV6Cidr: '',
          associationID: 'trunk-assoc-1',
        },
      },
    ],
    [
      'pending, adoption refused: allocate a VLAN',
      { ...given(branch({ phase: 'Pending' }), pod({ annotation })), adoptionRefused: true },
      { step: 'allocate-vlan' },
    ],
    [
      'pending, an annotation without an association id is not adoptable',
      given(branch({ phase: 'Pending' }), pod({ annotation: annotation.replace('trunk-assoc-1', '') })),
      { step: 'allocate-vlan' },
    ],
    [
      'VLAN reserved: create the ENI',
      given(branch({ vlanId: 1 }), pod()),
      { step: 'create-eni', securityGroups: ['sg-1'] },
    ],
    [
      'VLAN reserved but the primary ENI settings are not recorded yet (a status from before): wait for the trunk',
      given(branch({ vlanId: 1 }), pod(), { ...trunk, status: { ...trunk.status, primaryInterface: undefined } }),
      {
        step: 'wait-trunk',
        message: "trunk of node node-a is being verified (its primary ENI's settings are not recorded yet)",
      },
    ],
    [
      'a created ENI does not wait for them: associating needs nothing of the primary ENI',
      given(branch(created), pod(), { ...trunk, status: { ...trunk.status, primaryInterface: undefined } }),
      { step: 'associate' },
    ],
    [
      'empty spec groups use the trunk groups',
      given(branch({ vlanId: 1 }, { groups: [] }), pod()),
      { step: 'create-eni', securityGroups: ['sg-node'] },
    ],
    ['created: associate', given(branch(created), pod()), { step: 'associate' }],
    ['associated: annotate', given(branch(associated), pod()), { step: 'annotate', annotation, needsPatch: true }],
    [
      'annotated but status not Ready (crash after the patch)',
      given(branch({ ...associated, phase: 'Associating' }), pod({ annotation })),
      { step: 'annotate', annotation, needsPatch: false },
    ],
    ['ready and in sync', given(branch({ ...associated, phase: 'Ready' }), pod({ annotation })), { step: 'none' }],
    [
      'groups drift',
      given(branch({ ...associated, phase: 'Ready' }, { groups: ['sg-1', 'sg-2'] }), pod({ annotation })),
      { step: 'modify-groups', securityGroups: ['sg-1', 'sg-2'] },
    ],
    [
      'groups back to node defaults',
      given(branch({ ...associated, phase: 'Ready' }, { groups: [] }), pod({ annotation })),
      { step: 'modify-groups', securityGroups: ['sg-node'] },
    ],
    [
      'pod deleted: start the cooldown',
      given(branch(associated), undefined),
      { step: 'request-release', cause: 'PodGone' },
    ],
    [
      'pod recreated under the same name is a different pod',
      given(branch(associated), pod({ uid: 'new-uid' })),
      { step: 'request-release', cause: 'PodGone' },
    ],
    [
      'job pod succeeded',
      given(branch(associated), pod({ phase: 'Succeeded' })),
      { step: 'request-release', cause: 'PodFinished' },
    ],
    [
      'pod failed',
      given(branch(associated), pod({ phase: 'Failed' })),
      { step: 'request-release', cause: 'PodFinished' },
    ],
    [
      'branch deleted by hand while its pod runs: kept (finalizer) until the pod ends',
      given(branch({ ...associated, phase: 'Ready' }, { deleting: true }), pod({ annotation })),
      { step: 'none' },
    ],
    [
      'branch deleted by hand, then the pod goes: the cooldown starts',
      given(branch({ ...associated, phase: 'Ready' }, { deleting: true }), undefined),
      { step: 'request-release', cause: 'PodGone' },
    ],
    [
      'cooling down, 1 ms left',
      given(branch({ ...associated, releaseRequestedAt: requestedAt(COOLDOWN - 1) }), undefined),
      { step: 'wait-cooldown', cause: 'PodGone', remainingMs: 1 },
    ],
    [
      'cooldown over',
      given(branch({ ...associated, releaseRequestedAt: requestedAt(COOLDOWN) }), undefined),
      { step: 'release', cause: 'PodGone' },
    ],
    [
      'pod gone before any ENI existed: no cooldown',
      given(branch({ vlanId: 4 }), undefined),
      { step: 'release', cause: 'PodGone' },
    ],
    [
      'node gone: release at once, pod or not',
      given(branch(associated), pod({ annotation }), trunk, null),
      { step: 'release', cause: 'NodeGone' },
    ],
    [
      'node gone during the cooldown: release at once',
      given(branch({ ...associated, releaseRequestedAt: requestedAt(1) }), undefined, null, null),
      { step: 'release', cause: 'NodeGone' },
    ],
    [
      'node and TrunkInterface gone, nothing in EC2 yet',
      given(branch({ vlanId: 2 }), pod(), null, null),
      { step: 'release', cause: 'NodeGone' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(planBranchStep(input)).toEqual(expected);
  });
});

describe('planBranchStep and the per-ENI group quota', () => {
  /** A branch at `generation` whose SecurityGroupsApplied condition was written at `observed`. */
  function refused(
    status: NonNullable<BranchInterface['status']>,
    generation: number,
    observed: number,
    groups = ['sg-1', 'sg-2'],
  ): BranchInterface {
    const b = branch(
      {
        ...status,
        conditions: [
          {
            type: 'SecurityGroupsApplied',
            status: 'False',
            reason: 'SecurityGroupQuotaExceeded',
            message: 'over the quota',
            lastTransitionTime: requestedAt(0),
            observedGeneration: observed,
          },
        ],
      },
      { groups },
    );
    return { ...b, metadata: { ...b.metadata, generation } };
  }
  const blocked: BranchStep = {
    step: 'wait-spec',
    message: 'EC2 refused 2 security groups for the per-ENI quota; waiting for the policies to change',
  };
  const annotated = pod({ annotation });

  test.each<[string, BranchPlanInput, BranchStep]>([
    [
      'new pod refused, spec unchanged: no create',
      given(refused({ phase: 'Creating', vlanId: 1 }, 1, 1), pod()),
      blocked,
    ],
    [
      'new pod refused, spec changed since: create again',
      given(refused({ phase: 'Creating', vlanId: 1 }, 2, 1), pod()),
      { step: 'create-eni', securityGroups: ['sg-1', 'sg-2'] },
    ],
    [
      'running pod refused, spec unchanged: no modify',
      given(refused({ ...associated, phase: 'Ready' }, 3, 3), annotated),
      blocked,
    ],
    [
      'running pod refused, spec changed since: modify again',
      given(refused({ ...associated, phase: 'Ready' }, 4, 3), annotated),
      { step: 'modify-groups', securityGroups: ['sg-1', 'sg-2'] },
    ],
    [
      'spec back to the groups the ENI carries: clear the refusal, no EC2 call',
      given(refused({ ...associated, phase: 'Ready' }, 4, 3, ['sg-1']), annotated),
      { step: 'record-groups-applied', securityGroups: ['sg-1'] },
    ],
    [
      'a branch without a generation is never blocked',
      given(
        {
          ...refused({ phase: 'Creating', vlanId: 1 }, 1, 1),
          metadata: { name: 'web-0', namespace: 'catalog', finalizers: [FINALIZER] },
        },
        pod(),
      ),
      { step: 'create-eni', securityGroups: ['sg-1', 'sg-2'] },
    ],
  ])('%s', (_name, input, expected) => {
    expect(planBranchStep(input)).toEqual(expected);
  });
});

/**
 * The safety rule: a running pod's branch is never released because its TrunkInterface is missing or being
 * deleted while the Node lives (the object is re-created and adopts the attached trunk). The branch waits,
 * keeping its VLAN, ENI and annotation; nothing in EC2 is touched.
 */
describe('planBranchStep while the TrunkInterface is missing and the node lives', () => {
  const ready = branch({ ...associated, phase: 'Ready' });
  const deleting: TrunkInterface = { ...trunk, metadata: { name: 'node-a', deletionTimestamp: requestedAt(0) } };
  const recreated: TrunkInterface = { ...trunk, metadata: { name: 'node-a', uid: 't-uid-2' }, status: {} };
  const noTrunk = 'node node-a has no TrunkInterface yet (it is created, or re-created, by the node controller)';

  test.each<[string, BranchPlanInput, BranchStep]>([
    ['TrunkInterface missing', given(ready, pod({ annotation }), null), { step: 'wait-trunk', message: noTrunk }],
    [
      'TrunkInterface being deleted (status still Ready)',
      given(ready, pod({ annotation }), { ...deleting, status: {} }),
      {
        step: 'wait-trunk',
        message: 'the TrunkInterface of node node-a is being deleted and re-created',
      },
    ],
    [
      'TrunkInterface re-created, not Ready yet',
      given(ready, pod({ annotation }), recreated),
      { step: 'wait-trunk', message: 'trunk of node node-a is not initialised yet' },
    ],
    ['trunk adopted again: nothing to do', given(ready, pod({ annotation }), trunk), { step: 'none' }],
    [
      'a new pod on the node waits for the trunk, it does not fail',
      given(branch({}), pod(), null),
      { step: 'wait-trunk', message: noTrunk },
    ],
    [
      'a pod ending in the gap still cools down first',
      given(ready, undefined, null),
      { step: 'request-release', cause: 'PodGone' },
    ],
    [
      'a pod finishing in the gap still cools down first',
      given(ready, pod({ phase: 'Succeeded', annotation }), deleting),
      { step: 'request-release', cause: 'PodFinished' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(planBranchStep(input)).toEqual(expected);
  });
});
