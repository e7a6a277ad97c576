import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { BranchInterface, TrunkInterface } from '../../../../operator/api/types.ts';
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
  status: { state: 'Ready', eniId: 'eni-trunk', subnetId: 'subnet-1', branchCapacity: 9, securityGroups: ['sg-node'] },
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

/** `t` null means no TrunkInterface (undefined would pick the default). */
function given(b: BranchInterface, p: LeanPod | undefined, t: TrunkInterface | null = trunk): BranchPlanInput {
  return { branch: b, pod: p, trunk: t ?? undefined, nowMs: NOW, cooldownMs: COOLDOWN };
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
      'branch deleted by hand',
      given(branch(associated, { deleting: true }), pod()),
      { step: 'request-release', cause: 'BranchDeleted' },
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
    ['trunk gone: release at once', given(branch(associated), pod(), null), { step: 'release', cause: 'NodeGone' }],
    [
      'trunk gone during the cooldown: release at once',
      given(branch({ ...associated, releaseRequestedAt: requestedAt(1) }), undefined, null),
      { step: 'release', cause: 'NodeGone' },
    ],
    [
      'trunk being deleted',
      given(branch(associated), pod(), { ...trunk, metadata: { name: 'node-a', deletionTimestamp: requestedAt(0) } }),
      { step: 'release', cause: 'NodeGone' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(planBranchStep(input)).toEqual(expected);
  });
});
