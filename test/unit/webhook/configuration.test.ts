/**
 * config/webhook/manifests.yaml is what cert-manager users run with (the operator then leaves the configurations
 * alone); without cert-manager the operator writes desiredWebhooks over it. Both must declare the same webhooks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { defaultConfigurationSettings, desiredWebhooks } from '../../../operator/webhook/index.ts';

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
    { ...defaultConfigurationSettings, target: { service: { namespace: 'sgp-system', name: 'webhook', port: 443 } } },
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
