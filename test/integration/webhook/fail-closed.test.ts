import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { uniqueName } from '../harness/index.ts';
import {
  createPolicy,
  podBody,
  rejection,
  startWebhookUnderTest,
  waitForWebhook,
  type WebhookUnderTest,
} from './webhook-under-test.ts';

describe('with the webhook server down', () => {
  let webhook: WebhookUnderTest;
  let withPolicies: string;
  let withoutPolicies: string;

  beforeAll(async () => {
    webhook = await startWebhookUnderTest();
    withPolicies = await webhook.namespace({ hasPolicies: true });
    withoutPolicies = await webhook.namespace({ hasPolicies: false });
    await createPolicy(webhook, withPolicies, 'db-clients', {
      podSelector: { matchLabels: { role: 'db-client' } },
      securityGroups: { groupIds: ['sg-0123456789abcdef0'] },
    });
    // Prove the configurations are live before taking the server away, so a pass below means "failed
    // closed", not "the API server had not seen the configuration yet".
    await waitForWebhook(webhook, withPolicies, { role: 'db-client' });
    await webhook.stopServer();
  }, 60_000);

  afterAll(async () => {
    await webhook?.close();
  }, 30_000);

  test('a namespace with policies refuses pods instead of running them with the node’s groups', async () => {
    const error = await webhook.core
      .createNamespacedPod({
        namespace: withPolicies,
        body: podBody(uniqueName('db-client'), { labels: { role: 'db-client' } }),
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(rejection(error)).toMatch(
      /^Internal error occurred: failed calling webhook "mpod\.trunking\.sgp-operator\.io"/,
    );
  });

  test('a namespace without policies is unaffected', async () => {
    const pod = await webhook.core.createNamespacedPod({
      namespace: withoutPolicies,
      body: podBody(uniqueName('db-client'), { labels: { role: 'db-client' } }),
    });
    expect(pod.metadata?.namespace).toBe(withoutPolicies);
  });
});
