/**
 * PodReconciler and pod-eni annotations it did not write: removed with an event and a metric, and never one the
 * operator wrote, however far behind the caches are.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { branchInterfaceInformerOptions, toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, SecurityGroupPolicy, TrunkInterface } from '../../../../operator/api/types.ts';
import { PodReconciler } from '../../../../operator/controllers/pod/index.ts';
import { KubeApiError, type KubeObject } from '../../../../operator/framework/index.ts';
import { podEniAnnotationsForgedTotal } from '../../../../operator/observability/metrics.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';

const KEY = 'vpc.amazonaws.com/pod-eni';
const OURS =
  '[{"eniId":"eni-0aaaaaaaaaaaaaaa1","ifAddress":"02:00:00:00:00:01","privateIp":"10.0.1.7","ipv6Addr":"",' +
  '"vlanId":3,"subnetCidr":"10.0.1.0/24","subnetV6Cidr":"","associationID":"trunk-assoc-1"}]';
const STOLEN =
  '[{"eniId":"eni-0bbbbbbbbbbbbbbb2","ifAddress":"02:00:00:00:00:02","privateIp":"10.0.1.8","ipv6Addr":"",' +
  '"vlanId":4,"subnetCidr":"10.0.1.0/24","subnetV6Cidr":"","associationID":"trunk-assoc-2"}]';
const ASSOCIATED: BranchInterface['status'] = {
  phase: 'Ready',
  eniId: 'eni-0aaaaaaaaaaaaaaa1',
  macAddress: '02:00:00:00:00:01',
  privateIp: '10.0.1.7',
  vlanId: 3,
  associationId: 'trunk-assoc-1',
};

let kube: FakeKube;
let recorder: FakeRecorder;

function newReconciler(): PodReconciler {
  return new PodReconciler({
    client: kube,
    recorder,
    pods: kube.reader<LeanPod>(Kinds.Pod, {}, toLeanPod),
    policies: kube.reader<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy),
    serviceAccounts: kube.reader<KubeObject>(Kinds.ServiceAccount),
    namespaces: kube.reader<KubeObject>(Kinds.Namespace),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, branchInterfaceInformerOptions.indexers),
    securityGroupAnnotations: { isEnabled: false, allowList: [] },
  });
}

/** A pod in a namespace with no policy, not asking for a branch ENI: nothing but the guard acts on it. */
function seedPod(name: string, annotation: string | undefined, nodeName: string | undefined = 'node-a'): string {
  const pod = kube.seed<LeanPod>(Kinds.Pod, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', ...(annotation === undefined ? {} : { annotations: { [KEY]: annotation } }) },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'app' }] },
    status: { phase: 'Running' },
  });
  return pod.metadata.uid ?? '';
}

function seedBranch(name: string, podUid: string, status: BranchInterface['status']): void {
  kube.seed<BranchInterface>(Kinds.BranchInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'BranchInterface',
    metadata: { name, namespace: 'shop' },
    spec: { podName: name, podUid, nodeName: 'node-a', securityGroups: ['sg-0a'] },
    status,
  });
}

function annotationOf(name: string): string | undefined {
  return kube.stored<KubeObject>(Kinds.Pod, `shop/${name}`)?.metadata.annotations?.[KEY];
}

async function forgedCount(reason: string): Promise<number> {
  const metric = await podEniAnnotationsForgedTotal.get();
  return metric.values.find((sample) => sample.labels.reason === reason)?.value ?? 0;
}

beforeEach(() => {
  kube = new FakeKube();
  recorder = new FakeRecorder();
  kube.seed<TrunkInterface>(Kinds.TrunkInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-a' },
    spec: { nodeName: 'node-a', instanceId: 'i-1', instanceType: 'm5.large' },
  });
});

describe('PodReconciler and the pod-eni annotation', () => {
  test('another pod’s ENI on a pod with no BranchInterface is removed, with a Warning and the metric', async () => {
    seedPod('forger', STOLEN);
    const before = await forgedCount('no_branch_interface');
    await newReconciler().reconcile('shop/forger', reconcileContext());
    expect(annotationOf('forger')).toBeUndefined();
    expect(recorder.events.map(({ type, reason, name }) => ({ type, reason, name }))).toEqual([
      { type: 'Warning', reason: 'PodENIAnnotationForged', name: 'forger' },
    ]);
    expect(recorder.events[0]?.message).toContain(
      'it named ENI eni-0bbbbbbbbbbbbbbb2 (MAC 02:00:00:00:00:02, IP 10.0.1.8) on VLAN 4; expected no annotation',
    );
    expect(await forgedCount('no_branch_interface')).toBe(before + 1);
  });

  test('an annotation naming another ENI than the pod’s branch records is removed', async () => {
    const uid = seedPod('web', STOLEN);
    seedBranch('web', uid, ASSOCIATED);
    const before = await forgedCount('other_branch_eni');
    await newReconciler().reconcile('shop/web', reconcileContext());
    expect(annotationOf('web')).toBeUndefined();
    expect(recorder.reasons()).toEqual(['PodENIAnnotationForged']);
    expect(await forgedCount('other_branch_eni')).toBe(before + 1);
  });

  test('an unscheduled pod carrying the annotation is judged too', async () => {
    seedPod('early', STOLEN, undefined);
    await newReconciler().reconcile('shop/early', reconcileContext());
    expect(annotationOf('early')).toBeUndefined();
  });

  test('the operator’s own annotation is kept, by a reconciler that never saw it written (restart, new leader)', async () => {
    const uid = seedPod('web', OURS);
    seedBranch('web', uid, ASSOCIATED);
    await newReconciler().reconcile('shop/web', reconcileContext());
    expect(annotationOf('web')).toBe(OURS);
    expect(kube.writes).toEqual([]);
    expect(recorder.events).toEqual([]);
  });

  test('kept while the branch cache lags the status the annotation was written from', async () => {
    // The branch controller recorded the ENI in status, then annotated; the pod cache shows the annotation while
    // the branch cache still shows the branch before its association.
    const uid = seedPod('web', OURS);
    seedBranch('web', uid, { phase: 'Creating', vlanId: 3 });
    kube.freezeCache();
    await kube.mergePatchStatus(Kinds.BranchInterface, 'shop/web', ASSOCIATED);
    const writes = kube.writes.length;
    await newReconciler().reconcile('shop/web', reconcileContext());
    kube.thawCache();
    expect(annotationOf('web')).toBe(OURS);
    expect(kube.writes.length).toBe(writes);
    expect(recorder.events).toEqual([]);
  });

  test('kept when the operator annotates between the live read and the removal (the removal tests the value)', async () => {
    seedPod('web', STOLEN);
    kube.failNext(
      'jsonPatch',
      new KubeApiError('the test operation failed', { kind: Kinds.Pod, key: 'shop/web', statusCode: 422 }),
    );
    await newReconciler().reconcile('shop/web', reconcileContext());
    expect(recorder.events).toEqual([]);
  });

  test('left alone on a node the operator does not manage (another controller may have written it)', async () => {
    seedPod('elsewhere', STOLEN, 'node-eks');
    await newReconciler().reconcile('shop/elsewhere', reconcileContext());
    expect(annotationOf('elsewhere')).toBe(STOLEN);
    expect(kube.writes).toEqual([]);
  });

  test('a second reconcile after the removal changes nothing more', async () => {
    seedPod('forger', STOLEN);
    const reconciler = newReconciler();
    await reconciler.reconcile('shop/forger', reconcileContext());
    const writes = kube.writes.length;
    await reconciler.reconcile('shop/forger', reconcileContext());
    expect(kube.writes.length).toBe(writes);
    expect(recorder.reasons()).toEqual(['PodENIAnnotationForged']);
  });
});
