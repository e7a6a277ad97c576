/**
 * The vpc.amazonaws.com/pod-eni annotation guard through the real kube-apiserver, in a namespace that holds no
 * SecurityGroupPolicy (where the guard used to be absent). The operator's own writes go out as the operator's
 * username (impersonated by the admin client, with only the pod rights the operator has), which the
 * configuration's matchConditions exclude; everyone else is the admin user, whom nothing exempts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Kinds } from '../../../operator/api/kinds.ts';
import { createKubeClient, type KubeClient, type KubeObject } from '../../../operator/framework/index.ts';
import { eventually, kubeConfig, uniqueName } from '../harness/index.ts';
import {
  OPERATOR_USERNAME,
  podBody,
  rejection,
  startWebhookUnderTest,
  type WebhookUnderTest,
} from './webhook-under-test.ts';

const ANNOTATION = 'vpc.amazonaws.com/pod-eni';
/** Another pod's branch ENI, as a forger would copy it from `kubectl get pod -o yaml`. */
const STOLEN =
  '[{"eniId":"eni-0aaaaaaaaaaaaaaa1","ifAddress":"02:00:00:00:00:01","privateIp":"10.0.1.7","ipv6Addr":"",' +
  '"vlanId":3,"subnetCidr":"10.0.1.0/24","subnetV6Cidr":"","associationID":"trunk-assoc-0aaaaaaaaaaaaaaa1"}]';
const OURS =
  '[{"eniId":"eni-0bbbbbbbbbbbbbbb2","ifAddress":"02:00:00:00:00:02","privateIp":"10.0.1.8","ipv6Addr":"",' +
  '"vlanId":4,"subnetCidr":"10.0.1.0/24","subnetV6Cidr":"","associationID":"trunk-assoc-0bbbbbbbbbbbbbbb2"}]';

/** The rejection message of a call that must fail; a call that succeeds fails the test. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('the request was admitted, expected a denial');
  return rejection(outcome);
}

/** A client that authenticates as the admin and acts as the operator's ServiceAccount (Impersonate-User). */
function operatorClient(): KubeClient {
  const admin = kubeConfig();
  const impersonating = new KubeConfig();
  impersonating.loadFromOptions({
    clusters: admin.clusters,
    users: admin.users.map((user) => ({ ...user, impersonateUser: OPERATOR_USERNAME })),
    contexts: admin.contexts,
    currentContext: admin.currentContext,
  });
  return createKubeClient(impersonating);
}

/** The pod rights the operator's ClusterRole grants, bound in `namespace` to the impersonated username. */
async function grantOperatorPodRights(namespace: string): Promise<void> {
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const name = uniqueName('operator-pods');
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch', 'update'] }],
    },
  });
  const [, , saNamespace, saName] = OPERATOR_USERNAME.split(':');
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: saName ?? '', namespace: saNamespace ?? '' }],
    },
  });
}

/** The operator's annotate step: a JSON patch guarded by the pod's UID, as the operator's identity. */
async function annotateAsOperator(
  operator: KubeClient,
  namespace: string,
  name: string,
  uid: string,
  value: string,
): Promise<KubeObject> {
  return operator.jsonPatch<KubeObject>(Kinds.Pod, `${namespace}/${name}`, [
    { op: 'test', path: '/metadata/uid', value: uid },
    { op: 'add', path: '/metadata/annotations', value: { [ANNOTATION]: value } },
  ]);
}

const forgedCreate = (namespace: string, name: string): string =>
  `admission webhook "vpod.trunking.sgp-operator.io" denied the request: pod cannot be created with the ` +
  `vpc.amazonaws.com/pod-eni annotation: it is written only by sgp-operator once the pod's branch ENI is ` +
  `attached; remove the annotation from pod ${namespace}/${name}`;

const forgedUpdate = (change: string, namespace: string, name: string): string =>
  `may not ${change} the vpc.amazonaws.com/pod-eni annotation of pod ${namespace}/${name}: it is written only by ` +
  'sgp-operator, and the VPC CNI wires the pod into the branch ENI it names; leave the annotation as it is';

/** Until the API server has loaded the configuration, a dry-run forged pod is admitted. */
async function waitForGuard(webhook: WebhookUnderTest, namespace: string): Promise<void> {
  await eventually(
    async () => {
      const message = await refusal(
        webhook.core.createNamespacedPod({
          namespace,
          body: podBody(uniqueName('marker'), { annotations: { [ANNOTATION]: STOLEN } }),
          dryRun: 'All',
        }),
      );
      expect(message).toContain('vpod.trunking.sgp-operator.io');
    },
    { waitingFor: 'the API server to call vpod for a dry-run pod carrying a forged annotation' },
  );
}

describe('pod-eni annotation guard in a namespace without policies', () => {
  let webhook: WebhookUnderTest;
  let namespace: string;
  let operator: KubeClient;

  beforeAll(async () => {
    webhook = await startWebhookUnderTest();
    namespace = await webhook.namespace({ hasPolicies: false });
    await grantOperatorPodRights(namespace);
    operator = operatorClient();
    await waitForGuard(webhook, namespace);
  }, 60_000);

  afterAll(async () => {
    await webhook?.close();
  }, 30_000);

  test('a pod created carrying another pod’s ENI is denied, naming the pod', async () => {
    const name = uniqueName('forged');
    const message = await refusal(
      webhook.core.createNamespacedPod({ namespace, body: podBody(name, { annotations: { [ANNOTATION]: STOLEN } }) }),
    );
    expect(message).toBe(forgedCreate(namespace, name));
  });

  test('the operator’s own annotate is admitted, and a user may then neither change nor remove it', async () => {
    const name = uniqueName('web');
    const pod = await webhook.core.createNamespacedPod({ namespace, body: podBody(name) });
    const annotated = await annotateAsOperator(operator, namespace, name, pod.metadata?.uid ?? '', OURS);
    expect(annotated.metadata.annotations).toEqual({ [ANNOTATION]: OURS });

    const changed = await refusal(
      webhook.client.mergePatch(Kinds.Pod, `${namespace}/${name}`, {
        metadata: { annotations: { [ANNOTATION]: STOLEN } },
      }),
    );
    expect(changed).toContain(forgedUpdate('change', namespace, name));
    const removed = await refusal(
      webhook.client.mergePatch(Kinds.Pod, `${namespace}/${name}`, {
        metadata: { annotations: { [ANNOTATION]: null } },
      }),
    );
    expect(removed).toContain(forgedUpdate('remove', namespace, name));
    const live = await webhook.client.get<KubeObject>(Kinds.Pod, `${namespace}/${name}`);
    expect(live?.metadata.annotations).toEqual({ [ANNOTATION]: OURS });
  });

  test('a user adding the annotation through pods/status is denied too', async () => {
    const name = uniqueName('web');
    await webhook.core.createNamespacedPod({ namespace, body: podBody(name) });
    const live = await webhook.core.readNamespacedPod({ namespace, name });
    const message = await refusal(
      webhook.core.replaceNamespacedPodStatus({
        namespace,
        name,
        body: { ...live, metadata: { ...live.metadata, annotations: { [ANNOTATION]: STOLEN } } },
      }),
    );
    expect(message).toContain(forgedUpdate('add', namespace, name));
  });

  test('a Binding may not carry the annotation onto the pod it binds', async () => {
    const name = uniqueName('web');
    await webhook.core.createNamespacedPod({ namespace, body: podBody(name) });
    const message = await refusal(
      webhook.core.createNamespacedPodBinding({
        namespace,
        name,
        body: {
          metadata: { name, annotations: { [ANNOTATION]: STOLEN } },
          target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' },
        },
      }),
    );
    expect(message).toBe(
      `admission webhook "vpod.trunking.sgp-operator.io" denied the request: a Binding may not set the ` +
        `vpc.amazonaws.com/pod-eni annotation of pod ${namespace}/${name}: it is written only by sgp-operator once ` +
        `the pod's branch ENI is attached; bind the pod without it`,
    );
    const live = await webhook.core.readNamespacedPod({ namespace, name });
    expect({ nodeName: live.spec?.nodeName, annotations: live.metadata?.annotations }).toEqual({
      nodeName: undefined,
      annotations: undefined,
    });
  });

  test('labels and other annotations of an annotated pod stay writable', async () => {
    const name = uniqueName('web');
    const pod = await webhook.core.createNamespacedPod({ namespace, body: podBody(name) });
    await annotateAsOperator(operator, namespace, name, pod.metadata?.uid ?? '', OURS);
    const patched = await webhook.client.mergePatch<KubeObject>(Kinds.Pod, `${namespace}/${name}`, {
      metadata: { labels: { tier: 'gold' }, annotations: { 'example.com/owner': 'team-a' } },
    });
    expect({ labels: patched.metadata.labels, annotations: patched.metadata.annotations }).toEqual({
      labels: { tier: 'gold' },
      annotations: { [ANNOTATION]: OURS, 'example.com/owner': 'team-a' },
    });
  });
});

describe('pod-eni annotation guard with the webhook server down', () => {
  let webhook: WebhookUnderTest;
  let namespace: string;
  let operator: KubeClient;

  beforeAll(async () => {
    webhook = await startWebhookUnderTest();
    namespace = await webhook.namespace({ hasPolicies: false });
    await grantOperatorPodRights(namespace);
    operator = operatorClient();
    // Live first, then down: a denial below then means "failed closed", not "not loaded yet".
    await waitForGuard(webhook, namespace);
    await webhook.stopServer();
  }, 60_000);

  afterAll(async () => {
    await webhook?.close();
  }, 30_000);

  test('a forged annotation still does not get in (fail closed)', async () => {
    const message = await refusal(
      webhook.core.createNamespacedPod({
        namespace,
        body: podBody(uniqueName('forged'), { annotations: { [ANNOTATION]: STOLEN } }),
      }),
    );
    expect(message).toMatch(/^Internal error occurred: failed calling webhook "vpod\.trunking\.sgp-operator\.io"/);
  });

  test('a pod without the annotation never calls the webhook and is admitted', async () => {
    const pod = await webhook.core.createNamespacedPod({ namespace, body: podBody(uniqueName('web')) });
    expect(pod.metadata?.namespace).toBe(namespace);
  });

  test('the operator’s own annotate skips the webhook, and a label change on the annotated pod is admitted', async () => {
    const name = uniqueName('web');
    const pod = await webhook.core.createNamespacedPod({ namespace, body: podBody(name) });
    await annotateAsOperator(operator, namespace, name, pod.metadata?.uid ?? '', OURS);
    const patched = await webhook.client.mergePatch<KubeObject>(Kinds.Pod, `${namespace}/${name}`, {
      metadata: { labels: { tier: 'gold' } },
    });
    expect({ labels: patched.metadata.labels, annotations: patched.metadata.annotations }).toEqual({
      labels: { tier: 'gold' },
      annotations: { [ANNOTATION]: OURS },
    });
  });
});
