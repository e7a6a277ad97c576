import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { uniqueName } from '../harness/index.ts';
import {
  createPolicy,
  podBody,
  rejection,
  startWebhookUnderTest,
  waitForWebhook,
  type WebhookUnderTest,
} from './webhook-under-test.ts';

const POD_ENI = { 'vpc.amazonaws.com/pod-eni': '1' };

describe('pod admission webhooks called by kube-apiserver over HTTPS', () => {
  let webhook: WebhookUnderTest;
  let withPolicies: string;
  let withoutPolicies: string;

  beforeAll(async () => {
    webhook = await startWebhookUnderTest();
    withPolicies = await webhook.namespace({ hasPolicies: true });
    withoutPolicies = await webhook.namespace({ hasPolicies: false });
    await webhook.core.createNamespacedServiceAccount({
      namespace: withPolicies,
      body: { metadata: { name: 'default' } },
    });
    await webhook.core.createNamespacedServiceAccount({
      namespace: withPolicies,
      body: { metadata: { name: 'payments', labels: { team: 'payments' } } },
    });
    await createPolicy(webhook, withPolicies, 'db-clients', {
      podSelector: { matchLabels: { role: 'db-client' } },
      securityGroups: { groupIds: ['sg-0123456789abcdef0'] },
    });
    await createPolicy(webhook, withPolicies, 'payments', {
      serviceAccountSelector: { matchLabels: { team: 'payments' } },
      securityGroups: { groupIds: ['sg-0fedcba9876543210'] },
    });
    await waitForWebhook(webhook, withPolicies, { role: 'db-client' });
  }, 60_000);

  afterAll(async () => {
    await webhook?.close();
  }, 30_000);

  test('a pod a policy selects by its labels gets one pod ENI on its first container only', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: withPolicies,
      body: podBody(uniqueName('db-client'), { labels: { role: 'db-client' } }),
    });
    expect(pod.spec?.containers.map((container) => container.resources)).toEqual([
      { limits: { cpu: '100m', ...POD_ENI }, requests: { cpu: '100m', ...POD_ENI } },
      {},
    ]);
  });

  test('a pod a policy selects by its ServiceAccount labels is mutated too', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: withPolicies,
      body: podBody(uniqueName('payments'), { serviceAccountName: 'payments' }),
    });
    expect(pod.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '100m', ...POD_ENI });
  });

  test('a pod no policy selects is left as it was', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: withPolicies,
      body: podBody(uniqueName('web'), { labels: { role: 'web' } }),
    });
    expect(pod.spec?.containers[0]?.resources).toEqual({ limits: { cpu: '100m' }, requests: { cpu: '100m' } });
  });

  test('a namespace without policies never reaches the webhook', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: withoutPolicies,
      body: podBody(uniqueName('db-client'), { labels: { role: 'db-client' } }),
    });
    expect(pod.spec?.containers[0]?.resources).toEqual({ limits: { cpu: '100m' }, requests: { cpu: '100m' } });
  });

  test('creating a pod with a forged pod-eni annotation is denied, naming the annotation', async () => {
    const name = uniqueName('forged');
    const error = await webhook.core
      .createNamespacedPod({
        namespace: withPolicies,
        body: podBody(name, { annotations: { 'vpc.amazonaws.com/pod-eni': '[{"eniId":"eni-0a","vlanId":1}]' } }),
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(rejection(error)).toBe(
      `admission webhook "vpod.trunking.sgp-operator.io" denied the request: pod cannot be created with the ` +
        `vpc.amazonaws.com/pod-eni annotation: it is written only by sgp-operator once the pod's branch ENI is ` +
        `attached; remove the annotation from pod ${withPolicies}/${name}`,
    );
  });

  test('adding the pod-eni annotation to a running pod is denied for anyone but the operator', async () => {
    const name = uniqueName('web');
    await webhook.core.createNamespacedPod({
      namespace: withPolicies,
      body: podBody(name, { labels: { role: 'web' } }),
    });
    const error = await webhook.client
      .mergePatch(Kinds.Pod, `${withPolicies}/${name}`, {
        metadata: { annotations: { 'vpc.amazonaws.com/pod-eni': '[{"eniId":"eni-0a","vlanId":1}]' } },
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(
      `may not add the vpc.amazonaws.com/pod-eni annotation of pod ${withPolicies}/${name}: it is written only by sgp-operator`,
    );
    // Other annotations stay writable.
    const patched = await webhook.client.mergePatch<KubeObject>(Kinds.Pod, `${withPolicies}/${name}`, {
      metadata: { annotations: { 'example.com/owner': 'team-a' } },
    });
    expect(patched.metadata.annotations).toEqual({ 'example.com/owner': 'team-a' });
  });
});
