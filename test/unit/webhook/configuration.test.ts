/**
 * config/webhook/manifests.yaml is what cert-manager users run with (the operator then leaves the configurations
 * alone); without cert-manager the operator writes desiredWebhooks over it. Both must declare the same webhooks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { defaultConfigurationSettings, desiredWebhooks, operatorExcluded } from '../../../operator/webhook/index.ts';

interface ManifestWebhook {
  name: string;
  clientConfig: { service: { path: string } };
  [field: string]: unknown;
}

const manifests = parseAllDocuments(
  readFileSync(new URL('../../../config/webhook/manifests.yaml', import.meta.url), 'utf8'),
).map((document) => document.toJS() as { kind: string; webhooks: ManifestWebhook[] });

/** Everything but the target, which kustomize and the operator fill in; objectSelector {} is the default. */
function comparable(webhooks: ReadonlyArray<{ clientConfig: { service?: { path: string } } }>): unknown[] {
  return webhooks.map(({ clientConfig, ...rest }) => ({
    ...rest,
    objectSelector: {},
    path: clientConfig.service?.path,
  }));
}

describe('config/webhook/manifests.yaml', () => {
  const desired = desiredWebhooks(
    {
      ...defaultConfigurationSettings,
      // config/default's ServiceAccount, as SelfSubjectReview reports it to the operator.
      operatorUsername: 'system:serviceaccount:sgp-system:sgp-operator-controller-manager',
      target: { service: { namespace: 'sgp-system', name: 'webhook', port: 443 } },
    },
    undefined,
  );

  test.each([
    ['MutatingWebhookConfiguration', desired.mutating],
    ['ValidatingWebhookConfiguration', desired.validating],
  ] as const)('%s declares the webhooks the operator writes', (kind, webhooks) => {
    const manifest = manifests.find((document) => document.kind === kind);
    expect(comparable(manifest?.webhooks ?? [])).toEqual(comparable(webhooks));
  });
});

describe('operatorExcluded', () => {
  test.each([
    {
      name: 'a ServiceAccount, in pieces kustomize can set one by one',
      username: 'system:serviceaccount:sgp-system:sgp-operator-controller-manager',
      expression:
        "request.userInfo.username != ('system:serviceaccount:' + 'sgp-system' + ':' + 'sgp-operator-controller-manager')",
    },
    {
      name: 'any other user, whole',
      username: 'kubernetes-admin',
      expression: "request.userInfo.username != 'kubernetes-admin'",
    },
    {
      name: 'a quote in a username, escaped',
      username: "o'brien",
      expression: "request.userInfo.username != 'o\\'brien'",
    },
  ])('$name', ({ username, expression }) => {
    expect(operatorExcluded(username)).toBe(expression);
  });

  test('splitting the ServiceAccount form at its quotes gives the namespace at 3 and the name at 7', () => {
    const pieces = operatorExcluded('system:serviceaccount:netsec:sgp-operator-controller-manager').split("'");
    expect([pieces[3], pieces[7]]).toEqual(['netsec', 'sgp-operator-controller-manager']);
  });
});
