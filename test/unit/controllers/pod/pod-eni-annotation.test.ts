import { describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import type { BranchInterface } from '../../../../operator/api/types.ts';
import {
  forgedAnnotationEvent,
  judgePodEniAnnotation,
  type PodEniAnnotationVerdict,
} from '../../../../operator/controllers/pod/index.ts';

const KEY = 'vpc.amazonaws.com/pod-eni';

const ENTRY = {
  eniId: 'eni-0aaaaaaaaaaaaaaa1',
  ifAddress: '02:00:00:00:00:01',
  privateIp: '10.0.1.7',
  ipv6Addr: '',
  vlanId: 3,
  subnetCidr: '10.0.1.0/24',
  subnetV6Cidr: '',
  associationID: 'trunk-assoc-0aaaaaaaaaaaaaaa1',
};
const value = (entry: Record<string, unknown> = ENTRY): string => JSON.stringify([entry]);

function pod(annotation: string | undefined, options: Partial<LeanPod['status']> & { deleting?: boolean } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'pod-uid-1',
      ...(annotation === undefined ? {} : { annotations: { [KEY]: annotation } }),
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: 'node-a', containers: [] },
    status: { phase: options.phase ?? 'Running' },
  } satisfies LeanPod;
}

/** A pod that asks for a branch ENI (the vpc.amazonaws.com/pod-eni resource), as EKS's pods do. */
function asking(annotation: string, options: { unscheduled?: boolean } = {}): LeanPod {
  const base = pod(annotation);
  return {
    ...base,
    spec: {
      ...(options.unscheduled ? {} : { nodeName: 'node-a' }),
      containers: [{ name: 'app', resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }],
    },
  };
}

function branch(status: BranchInterface['status'], podUid = 'pod-uid-1'): BranchInterface {
  return {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { podName: 'web', podUid, nodeName: 'node-a', securityGroups: ['sg-0a'] },
    status,
  };
}

const ASSOCIATED: BranchInterface['status'] = {
  phase: 'Ready',
  eniId: ENTRY.eniId,
  macAddress: ENTRY.ifAddress,
  privateIp: ENTRY.privateIp,
  vlanId: ENTRY.vlanId,
  associationId: ENTRY.associationID,
  subnetCidr: ENTRY.subnetCidr,
};

const FOUND = 'ENI eni-0aaaaaaaaaaaaaaa1 (MAC 02:00:00:00:00:01, IP 10.0.1.7) on VLAN 3';
const RECORDED = `${FOUND}, as BranchInterface web records`;

describe('judgePodEniAnnotation', () => {
  test.each<{ name: string; input: Parameters<typeof judgePodEniAnnotation>[0]; verdict: PodEniAnnotationVerdict }>([
    {
      name: 'no annotation',
      input: { pod: pod(undefined), branch: undefined, isNodeManaged: true },
      verdict: { verdict: 'absent' },
    },
    {
      name: 'the operator’s annotation, as the branch records it',
      input: { pod: pod(value()), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: { verdict: 'ours' },
    },
    {
      name: 'the operator’s annotation while the branch is still Associating (annotated, not yet marked Ready)',
      input: { pod: pod(value()), branch: branch({ ...ASSOCIATED, phase: 'Associating' }), isNodeManaged: true },
      verdict: { verdict: 'ours' },
    },
    {
      name: 'the operator’s annotation after a re-association (new association id, same ENI and VLAN)',
      input: {
        pod: pod(value()),
        branch: branch({ ...ASSOCIATED, associationId: 'trunk-assoc-0new' }),
        isNodeManaged: true,
      },
      verdict: { verdict: 'ours' },
    },
    {
      name: 'a pod on a node the operator does not manage',
      input: { pod: pod(value()), branch: undefined, isNodeManaged: false },
      verdict: { verdict: 'not-judged', reason: 'NodeNotManaged' },
    },
    {
      name: 'a finished pod whose branch was released',
      input: { pod: pod(value(), { phase: 'Succeeded' }), branch: undefined, isNodeManaged: true },
      verdict: { verdict: 'not-judged', reason: 'Finished' },
    },
    {
      name: 'a terminating pod',
      input: { pod: pod(value(), { deleting: true }), branch: undefined, isNodeManaged: true },
      verdict: { verdict: 'not-judged', reason: 'Terminating' },
    },
    {
      name: 'a whole annotation on a pod asking for a branch ENI, no BranchInterface yet (EKS wired it; adoption next)',
      input: { pod: asking(value()), branch: undefined, isNodeManaged: true },
      verdict: { verdict: 'not-judged', reason: 'AwaitingAdoption' },
    },
    {
      name: 'the same while its BranchInterface records neither VLAN nor ENI (adoption under way)',
      input: { pod: asking(value()), branch: branch({ phase: 'Pending' }), isNodeManaged: true },
      verdict: { verdict: 'not-judged', reason: 'AwaitingAdoption' },
    },
    {
      name: 'the same once its branch adopted the ENI it names',
      input: { pod: asking(value()), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: { verdict: 'ours' },
    },
    {
      name: 'the same once its branch refused the ENI and chose a VLAN of its own',
      input: { pod: asking(value()), branch: branch({ phase: 'Creating', vlanId: 1 }), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'BranchNotAnnounced',
        found: FOUND,
        expected: 'no annotation yet: the ENI of BranchInterface web is not associated',
      },
    },
    {
      name: 'an annotation without an association id is nothing to adopt',
      input: { pod: asking(value({ ...ENTRY, associationID: '' })), branch: undefined, isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'NoBranchInterface',
        found: FOUND,
        expected: 'no annotation: no BranchInterface of this pod exists',
      },
    },
    {
      name: 'an unscheduled pod asking for a branch ENI is judged (nothing adopts before a node)',
      input: { pod: asking(value(), { unscheduled: true }), branch: undefined, isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'NoBranchInterface',
        found: FOUND,
        expected: 'no annotation: no BranchInterface of this pod exists',
      },
    },
    {
      name: 'a pod with no BranchInterface',
      input: { pod: pod(value()), branch: undefined, isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'NoBranchInterface',
        found: FOUND,
        expected: 'no annotation: no BranchInterface of this pod exists',
      },
    },
    {
      name: 'a BranchInterface of a predecessor with the same name (another UID)',
      input: { pod: pod(value()), branch: branch(ASSOCIATED, 'old-uid'), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'NoBranchInterface',
        found: FOUND,
        expected: 'no annotation: no BranchInterface of this pod exists',
      },
    },
    {
      name: 'a branch whose ENI is not associated yet',
      input: {
        pod: pod(value()),
        branch: branch({ phase: 'Associating', eniId: ENTRY.eniId, macAddress: ENTRY.ifAddress, vlanId: 3 }),
        isNodeManaged: true,
      },
      verdict: {
        verdict: 'forged',
        reason: 'BranchNotAnnounced',
        found: FOUND,
        expected: 'no annotation yet: the ENI of BranchInterface web is not associated',
      },
    },
    {
      name: 'another pod’s ENI',
      input: {
        pod: pod(value()),
        branch: branch({
          ...ASSOCIATED,
          eniId: 'eni-0bbbbbbbbbbbbbbb2',
          macAddress: '02:00:00:00:00:02',
          privateIp: '10.0.1.8',
          vlanId: 4,
        }),
        isNodeManaged: true,
      },
      verdict: {
        verdict: 'forged',
        reason: 'OtherBranchENI',
        found: FOUND,
        expected:
          'ENI eni-0bbbbbbbbbbbbbbb2 (MAC 02:00:00:00:00:02, IP 10.0.1.8) on VLAN 4, as BranchInterface web records',
      },
    },
    {
      name: 'the pod’s own ENI on another VLAN',
      input: { pod: pod(value({ ...ENTRY, vlanId: 9 })), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'OtherBranchENI',
        found: 'ENI eni-0aaaaaaaaaaaaaaa1 (MAC 02:00:00:00:00:01, IP 10.0.1.7) on VLAN 9',
        expected: RECORDED,
      },
    },
    {
      name: 'the pod’s own ENI with another IP',
      input: { pod: pod(value({ ...ENTRY, privateIp: '10.0.1.99' })), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'OtherBranchENI',
        found: 'ENI eni-0aaaaaaaaaaaaaaa1 (MAC 02:00:00:00:00:01, IP 10.0.1.99) on VLAN 3',
        expected: RECORDED,
      },
    },
    {
      name: 'two entries (the operator writes one)',
      input: { pod: pod(JSON.stringify([ENTRY, ENTRY])), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'Malformed',
        found: `a value sgp-operator never writes (${JSON.stringify([ENTRY, ENTRY]).slice(0, 77)}...)`,
        expected: RECORDED,
      },
    },
    {
      name: 'not JSON',
      input: { pod: pod('eni-0aaaaaaaaaaaaaaa1'), branch: branch(ASSOCIATED), isNodeManaged: true },
      verdict: {
        verdict: 'forged',
        reason: 'Malformed',
        found: 'a value sgp-operator never writes (eni-0aaaaaaaaaaaaaaa1)',
        expected: RECORDED,
      },
    },
  ])('$name', ({ input, verdict }) => {
    expect(judgePodEniAnnotation(input)).toEqual(verdict);
  });
});

describe('forgedAnnotationEvent', () => {
  test('names the pod, what was found and expected, and tells the user to delete the pod', () => {
    const verdict = judgePodEniAnnotation({ pod: pod(value()), branch: undefined, isNodeManaged: true });
    if (verdict.verdict !== 'forged') throw new Error(`expected forged, got ${verdict.verdict}`);
    expect(forgedAnnotationEvent(pod(value()), verdict)).toEqual({
      type: 'Warning',
      reason: 'PodENIAnnotationForged',
      message:
        'removed annotation vpc.amazonaws.com/pod-eni of pod shop/web, which sgp-operator did not write: it named ' +
        `${FOUND}; expected no annotation: no BranchInterface of this pod exists. If the pod started with it, the ` +
        'VPC CNI may have wired it into that ENI, and removing the annotation does not undo that: delete the pod ' +
        'so that it starts again with its own network',
    });
  });
});
