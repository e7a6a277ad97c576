import { beforeEach, describe, expect, test } from '@jest/globals';
import type { LeanPod } from '../../../../operator/api/pod.ts';
import { branchInterfaceInformerOptions, toLeanPod } from '../../../../operator/api/pod.ts';
import { Kinds } from '../../../../operator/api/kinds.ts';
import type { BranchInterface, SecurityGroupPolicy, TrunkInterface } from '../../../../operator/api/types.ts';
import { PodReconciler } from '../../../../operator/controllers/pod/index.ts';
import type { KubeObject } from '../../../../operator/framework/index.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../../kit/kube.ts';

let kube: FakeKube;
let recorder: FakeRecorder;
let reconciler: PodReconciler;

function pod(
  name: string,
  labels: Record<string, string>,
  options: { requests?: boolean; uid?: string } = {},
): LeanPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'catalog', labels, ...(options.uid ? { uid: options.uid } : {}) },
    spec: {
      nodeName: 'node-a',
      serviceAccountName: 'catalog',
      containers: [
        {
          name: 'app',
          ...(options.requests === false ? {} : { resources: { limits: { 'vpc.amazonaws.com/pod-eni': '1' } } }),
        },
      ],
    },
    status: { phase: 'Running' },
  };
}

function policy(
  name: string,
  groupIds: string[],
  selector: Partial<SecurityGroupPolicy['spec']>,
  valid = true,
): SecurityGroupPolicy {
  return {
    apiVersion: 'vpcresources.k8s.aws/v1beta1',
    kind: 'SecurityGroupPolicy',
    metadata: { name, namespace: 'catalog', generation: 1 },
    spec: { ...selector, securityGroups: { groupIds } },
    status: {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Valid',
          status: valid ? 'True' : 'False',
          reason: valid ? 'GroupsFound' : 'GroupsNotFound',
          message: valid
            ? ''
            : `SecurityGroupPolicy catalog/${name} names sg-0000dead, which does not exist in vpc-1; fix spec.securityGroups.groupIds or create the group`,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

const service = { 'app.kubernetes.io/component': 'service' };
/** The one group the reconciler's allow-list (below) lets annotations name. */
const ALLOWED_GROUP = 'sg-0123abcd';
const SG_ANNOTATION = 'vpc.amazonaws.com/security-groups';
const OPT_IN = 'trunking.sgp-operator.io/allow-security-group-annotations';

function annotated(name: string, value: string): LeanPod {
  const base = pod(name, service);
  return { ...base, metadata: { ...base.metadata, annotations: { [SG_ANNOTATION]: value } } };
}

function namespace(labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'catalog', labels } };
}

function branchOf(name: string): BranchInterface | undefined {
  return kube.stored<BranchInterface>(Kinds.BranchInterface, `catalog/${name}`);
}

beforeEach(() => {
  kube = new FakeKube();
  recorder = new FakeRecorder();
  kube.seed(Kinds.TrunkInterface, {
    apiVersion: 'trunking.sgp-operator.io/v1alpha1',
    kind: 'TrunkInterface',
    metadata: { name: 'node-a' },
    spec: { nodeName: 'node-a', instanceId: 'i-1', instanceType: 'm5.large' },
  } satisfies TrunkInterface);
  kube.seed(Kinds.ServiceAccount, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'catalog', namespace: 'catalog', labels: { team: 'catalog' } },
  });
  reconciler = new PodReconciler({
    client: kube,
    recorder,
    pods: kube.reader<LeanPod>(Kinds.Pod, {}, toLeanPod),
    policies: kube.reader<SecurityGroupPolicy>(Kinds.SecurityGroupPolicy),
    serviceAccounts: kube.reader<KubeObject>(Kinds.ServiceAccount),
    namespaces: kube.reader<KubeObject>(Kinds.Namespace),
    trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
    branches: kube.reader<BranchInterface>(Kinds.BranchInterface, branchInterfaceInformerOptions.indexers),
    securityGroupAnnotations: { isEnabled: true, allowList: [ALLOWED_GROUP] },
  });
});

describe('PodReconciler', () => {
  test('a matching pod gets a BranchInterface owned by it, with the sorted union of its policies', async () => {
    kube.seed(
      Kinds.SecurityGroupPolicy,
      policy('rds', ['sg-0000000b', 'sg-0000000a'], { podSelector: { matchLabels: service } }),
    );
    kube.seed(
      Kinds.SecurityGroupPolicy,
      policy('team', ['sg-0000000c'], { serviceAccountSelector: { matchLabels: { team: 'catalog' } } }),
    );
    const seeded = kube.seed(Kinds.Pod, pod('web-0', service));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    const branch = branchOf('web-0');
    expect(branch?.spec).toEqual({
      podName: 'web-0',
      podUid: seeded.metadata.uid,
      nodeName: 'node-a',
      securityGroups: ['sg-0000000a', 'sg-0000000b', 'sg-0000000c'],
      matchedPolicies: ['rds', 'team'],
    });
    expect(branch?.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: seeded.metadata.uid },
    ]);
    expect(branch?.metadata.finalizers).toEqual(['trunking.sgp-operator.io/branch-cleanup']);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'SecurityGroupRequested',
        message: 'Pod will get the following Security Groups [sg-0000000b sg-0000000a sg-0000000c]',
      }),
    ]);
  });

  test("a gone pod's event bookkeeping is forgotten, a live pod's is kept", async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: {} }));
    kube.seed(Kinds.Pod, pod('web-0', service));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(recorder.forgotten).toEqual([]);
    kube.remove(Kinds.Pod, 'catalog/web-0');
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(recorder.forgotten).toEqual(['Pod/catalog/web-0']);
  });

  test('a reconcile right after the create, on a stale cache, does not create a second branch', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: {} }));
    kube.seed(Kinds.Pod, pod('web-0', service));
    kube.freezeCache();
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(kube.writes.filter((w) => w.startsWith('create'))).toEqual(['create BranchInterface/catalog/web-0']);
  });

  test('a policy edit updates the branch spec, with an event', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: {} }));
    kube.seed(Kinds.Pod, pod('web-0', service));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a', 'sg-0000000d'], { podSelector: {} }));
    recorder.events.length = 0;

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec.securityGroups).toEqual(['sg-0000000a', 'sg-0000000d']);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        reason: 'SecurityGroupRequested',
        message:
          'Pod will get the following Security Groups [sg-0000000a sg-0000000d] (was [sg-0000000a]); the branch ENI is updated in place, without restarting the pod',
      }),
    ]);
  });

  test('a pod that stops matching everything falls back to the node groups, with a Warning', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: { matchLabels: service } }));
    kube.seed(Kinds.Pod, pod('web-0', service));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    kube.remove(Kinds.SecurityGroupPolicy, 'catalog/rds');
    recorder.events.length = 0;

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec.securityGroups).toEqual([]);
    expect(recorder.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'SecurityGroupRequested' })]);
  });

  test('a pod requesting pod-eni that matches nothing gets the node groups and the EKS Warning', async () => {
    kube.seed(Kinds.Pod, pod('web-0', { app: 'other' }));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(branchOf('web-0')?.spec.securityGroups).toEqual([]);
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'SecurityGroupRequested',
        message:
          "Pod will get the instance security group as the pod didn't match any Security Group from SecurityGroupPolicy",
      }),
    ]);
  });

  test('a pod that neither matches nor requests pod-eni is left alone', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: { matchLabels: service } }));
    kube.seed(Kinds.Pod, pod('batch', { app: 'batch' }, { requests: false }));
    await reconciler.reconcile('catalog/batch', reconcileContext());
    expect(kube.writes).toEqual([]);
    expect(recorder.events).toEqual([]);
  });

  test('a pod matching an invalid policy waits, with one Warning naming the policy', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000dead'], { podSelector: {} }, false));
    kube.seed(Kinds.Pod, pod('web-0', service));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    expect(branchOf('web-0')).toBeUndefined();
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'SecurityGroupPolicyInvalid',
        message: expect.stringContaining('sg-0000dead, which does not exist in vpc-1'),
      }),
    ]);
  });

  test('a StatefulSet pod recreated while its predecessor’s branch cools down gets its own branch', async () => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: {} }));
    kube.seed(Kinds.Pod, pod('web-0', service, { uid: 'old-uid' }));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    kube.remove(Kinds.Pod, 'catalog/web-0');
    kube.seed(Kinds.Pod, pod('web-0', service, { uid: 'abcdef12-new' }));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec.podUid).toBe('old-uid');
    expect(branchOf('web-0-abcdef12')?.spec).toMatchObject({ podName: 'web-0', podUid: 'abcdef12-new' });
  });
});

describe('PodReconciler with security groups by annotation', () => {
  beforeEach(() => {
    kube.seed(Kinds.SecurityGroupPolicy, policy('rds', ['sg-0000000a'], { podSelector: { matchLabels: service } }));
  });

  test('an allowed pod annotation adds its groups to the policy groups, and says where they came from', async () => {
    kube.seed(Kinds.Namespace, namespace({ [OPT_IN]: 'true' }));
    kube.seed(Kinds.Pod, annotated('web-0', ` ${ALLOWED_GROUP} ,${ALLOWED_GROUP}`));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec).toMatchObject({
      securityGroups: ['sg-0000000a', ALLOWED_GROUP],
      matchedPolicies: ['rds', 'annotation:Pod'],
    });
    expect(recorder.events).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'SecurityGroupRequested',
        message: `Pod will get the following Security Groups [sg-0000000a ${ALLOWED_GROUP}] from SecurityGroupPolicy rds and annotation vpc.amazonaws.com/security-groups of Pod catalog/web-0`,
      }),
    ]);
  });

  test('the ServiceAccount annotation counts for every pod running as it', async () => {
    kube.seed(Kinds.Namespace, namespace({ [OPT_IN]: 'true' }));
    kube.seed(Kinds.ServiceAccount, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'catalog', namespace: 'catalog', annotations: { [SG_ANNOTATION]: ALLOWED_GROUP } },
    });
    kube.seed(Kinds.Pod, pod('web-0', { app: 'other' }));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec).toMatchObject({
      securityGroups: [ALLOWED_GROUP],
      matchedPolicies: ['annotation:ServiceAccount/catalog'],
    });
  });

  test('in a namespace not opted in the annotation is refused: policy groups only, one Warning', async () => {
    kube.seed(Kinds.Namespace, namespace({}));
    kube.seed(Kinds.Pod, annotated('web-0', ALLOWED_GROUP));

    await reconciler.reconcile('catalog/web-0', reconcileContext());
    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec.securityGroups).toEqual(['sg-0000000a']);
    expect(recorder.events.filter((event) => event.type === 'Warning')).toEqual([
      expect.objectContaining({
        reason: 'SecurityGroupAnnotationRefused',
        message:
          'annotation vpc.amazonaws.com/security-groups of Pod catalog/web-0 is not allowed: namespace catalog is ' +
          'not labelled trunking.sgp-operator.io/allow-security-group-annotations=true; ask a cluster admin to ' +
          'label it, or use a SecurityGroupPolicy',
      }),
    ]);
  });

  test('a group outside the allow-list is never applied, and the Warning names it', async () => {
    kube.seed(Kinds.Namespace, namespace({ [OPT_IN]: 'true' }));
    kube.seed(Kinds.Pod, annotated('web-0', `${ALLOWED_GROUP},sg-0badbad0`));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec.securityGroups).toEqual(['sg-0000000a', ALLOWED_GROUP]);
    expect(recorder.events.find((event) => event.type === 'Warning')?.message).toBe(
      "security group sg-0badbad0 in annotation vpc.amazonaws.com/security-groups of Pod catalog/web-0 is not in the operator's allow-list (--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy",
    );
  });

  test('removing the namespace opt-in takes the annotation groups off a running pod', async () => {
    kube.seed(Kinds.Namespace, namespace({ [OPT_IN]: 'true' }));
    kube.seed(Kinds.Pod, annotated('web-0', ALLOWED_GROUP));
    await reconciler.reconcile('catalog/web-0', reconcileContext());
    kube.seed(Kinds.Namespace, namespace({}));

    await reconciler.reconcile('catalog/web-0', reconcileContext());

    expect(branchOf('web-0')?.spec).toMatchObject({ securityGroups: ['sg-0000000a'], matchedPolicies: ['rds'] });
    expect(recorder.events.map((event) => event.reason)).toEqual([
      'SecurityGroupRequested',
      'SecurityGroupAnnotationRefused',
      'SecurityGroupRequested',
    ]);
  });
});
