/**
 * Security groups by annotation at admission: kube-apiserver calls the webhook server over HTTPS (matchConditions
 * and all), with the feature on and one allow-listed group. Refusals are asserted as the user reads them.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AppsV1Api } from '@kubernetes/client-node';
import { Kinds } from '../../../operator/api/kinds.ts';
import { eventually, kubeConfig, uniqueName } from '../harness/index.ts';
import { podBody, rejection, startWebhookUnderTest, type WebhookUnderTest } from './webhook-under-test.ts';

const SG_ANNOTATION = 'vpc.amazonaws.com/security-groups';
const OPT_IN = 'trunking.sgp-operator.io/allow-security-group-annotations';
const ALLOWED = 'sg-0123456789abcdef0';
const OUTSIDE = 'sg-0badbad0';
const POD_ENI = { 'vpc.amazonaws.com/pod-eni': '1' };

/** The rejection message of a call that must fail; a call that succeeds fails the test. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('the request was admitted, expected a denial');
  return rejection(outcome);
}

const notAllowListed = (where: string) =>
  `security group ${OUTSIDE} in annotation ${SG_ANNOTATION} of ${where} is not in the operator's allow-list ` +
  '(--security-group-annotation-allow-list); ask a cluster admin to add it, or use a SecurityGroupPolicy';

describe('security group annotation webhooks called by kube-apiserver', () => {
  let webhook: WebhookUnderTest;
  let optedIn: string;
  let notOptedIn: string;

  beforeAll(async () => {
    webhook = await startWebhookUnderTest({ securityGroupAnnotations: { isEnabled: true, allowList: [ALLOWED] } });
    optedIn = await webhook.namespace({ hasPolicies: false, allowsAnnotations: true });
    notOptedIn = await webhook.namespace({ hasPolicies: false });
    for (const namespace of [optedIn, notOptedIn]) {
      await webhook.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } });
    }
    // The API server picks up new webhook configurations a moment after they are written.
    await eventually(
      async () => {
        const pod = await webhook.core.createNamespacedPod({
          namespace: optedIn,
          body: podBody(uniqueName('marker'), { annotations: { [SG_ANNOTATION]: ALLOWED } }),
          dryRun: 'All',
        });
        expect(pod.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '100m', ...POD_ENI });
        const denied = await refusal(
          webhook.core.createNamespacedPod({
            namespace: notOptedIn,
            body: podBody(uniqueName('marker'), { annotations: { [SG_ANNOTATION]: ALLOWED } }),
            dryRun: 'All',
          }),
        );
        expect(denied).toContain('is not allowed');
      },
      { waitingFor: 'the API server to call the annotation webhooks (dry-run marker pods)' },
    );
  }, 60_000);

  afterAll(async () => {
    await webhook?.close();
  }, 30_000);

  test('an allowed annotation in an opted-in namespace gets the pod-eni resource without any policy', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: optedIn,
      body: podBody(uniqueName('api'), { annotations: { [SG_ANNOTATION]: ALLOWED } }),
    });
    expect(pod.spec?.containers.map((container) => container.resources)).toEqual([
      { limits: { cpu: '100m', ...POD_ENI }, requests: { cpu: '100m', ...POD_ENI } },
      {},
    ]);
  });

  test('a group outside the allow-list is refused, naming the group and the rule', async () => {
    const name = uniqueName('api');
    const message = await refusal(
      webhook.core.createNamespacedPod({
        namespace: optedIn,
        body: podBody(name, { annotations: { [SG_ANNOTATION]: `${ALLOWED},${OUTSIDE}` } }),
      }),
    );
    expect(message).toBe(
      `admission webhook "vannotations-objects.trunking.sgp-operator.io" denied the request: ` +
        notAllowListed(`Pod ${optedIn}/${name}`),
    );
  });

  test('a namespace without the opt-in label is refused, naming the label', async () => {
    const name = uniqueName('api');
    const message = await refusal(
      webhook.core.createNamespacedPod({
        namespace: notOptedIn,
        body: podBody(name, { annotations: { [SG_ANNOTATION]: ALLOWED } }),
      }),
    );
    expect(message).toBe(
      `admission webhook "vannotations-objects.trunking.sgp-operator.io" denied the request: annotation ` +
        `${SG_ANNOTATION} of Pod ${notOptedIn}/${name} is not allowed: namespace ${notOptedIn} is not labelled ` +
        `${OPT_IN}=true; ask a cluster admin to label it, or use a SecurityGroupPolicy`,
    );
  });

  test('a ServiceAccount with a disallowed group is refused', async () => {
    const message = await refusal(
      webhook.core.createNamespacedServiceAccount({
        namespace: optedIn,
        body: { metadata: { name: 'payments', annotations: { [SG_ANNOTATION]: OUTSIDE } } },
      }),
    );
    expect(message).toBe(
      `admission webhook "vannotations-objects.trunking.sgp-operator.io" denied the request: ` +
        notAllowListed(`ServiceAccount ${optedIn}/payments`),
    );
  });

  test('a Deployment whose pod template names a disallowed group is refused at create', async () => {
    const apps = kubeConfig().makeApiClient(AppsV1Api);
    const message = await refusal(
      apps.createNamespacedDeployment({
        namespace: optedIn,
        body: {
          metadata: { name: 'api' },
          spec: {
            selector: { matchLabels: { app: 'api' } },
            template: {
              metadata: { labels: { app: 'api' }, annotations: { [SG_ANNOTATION]: OUTSIDE } },
              spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
            },
          },
        },
      }),
    );
    expect(message).toBe(
      `admission webhook "vannotations-pod-templates.trunking.sgp-operator.io" denied the request: ` +
        notAllowListed(`the pod template of Deployment ${optedIn}/api`),
    );
  });

  test('adding the annotation to a running pod without the pod-eni resource is refused; other edits pass', async () => {
    const name = uniqueName('web');
    await webhook.core.createNamespacedPod({ namespace: optedIn, body: podBody(name) });
    const message = await refusal(
      webhook.client.mergePatch(Kinds.Pod, `${optedIn}/${name}`, {
        metadata: { annotations: { [SG_ANNOTATION]: ALLOWED } },
      }),
    );
    expect(message).toContain(
      `annotation ${SG_ANNOTATION} cannot be added to or changed on Pod ${optedIn}/${name}: the pod does not ` +
        'request vpc.amazonaws.com/pod-eni',
    );
    const patched = await webhook.client.mergePatch(Kinds.Pod, `${optedIn}/${name}`, {
      metadata: { annotations: { 'example.com/owner': 'team-a' } },
    });
    expect(patched.metadata.annotations).toEqual({ 'example.com/owner': 'team-a' });
  });
});
