import { describe, expect, test } from '@jest/globals';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';

import { kubeConfig, testNamespace } from '../harness/index.ts';

describe('the run control plane', () => {
  test('KUBECONFIG reaches the jest worker and /version reports Kubernetes v1.36.3', async () => {
    expect(process.env.KUBECONFIG).toMatch(/kubeconfig$/);
    const version = await kubeConfig().makeApiClient(VersionApi).getCode();
    if (process.env.USE_EXISTING_CLUSTER !== 'true') expect(version.gitVersion).toBe('v1.36.3');
  });

  test('a test namespace is created with a unique name and is usable', async () => {
    const name = await testNamespace('env');
    const ns = await kubeConfig().makeApiClient(CoreV1Api).readNamespace({ name });
    expect(ns.metadata?.name).toBe(name);
  });
});
