/**
 * A forged vpc.amazonaws.com/pod-eni annotation that got past admission (no webhook runs here, as when it is
 * not installed) is removed by the pod controller, with a Warning event and the metric, while the annotation
 * the operator wrote on the pod it was copied from stays. Real kube-apiserver + etcd, the EC2 emulator over
 * HTTP, the whole operator from its composition root.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { POD_ENI_ANNOTATION } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { KubeObject } from '../../../operator/framework/index.ts';
import { podEniAnnotationsForgedTotal } from '../../../operator/observability/metrics.ts';
import { eventually } from '../harness/index.ts';
import { createTestPod, eventsOf, startPodWorld, testPolicy, waitAnnotated, type PodWorld } from './fixture.ts';

const SERVICE = { 'app.kubernetes.io/component': 'service' };

let world: PodWorld;

beforeAll(async () => {
  world = await startPodWorld();
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

async function annotationOf(namespace: string, name: string): Promise<string | undefined> {
  const pod = await world.client.get<KubeObject>(Kinds.Pod, `${namespace}/${name}`);
  return pod?.metadata.annotations?.[POD_ENI_ANNOTATION];
}

async function forgedTotal(): Promise<number> {
  const metric = await podEniAnnotationsForgedTotal.get();
  return metric.values.reduce((sum, sample) => sum + sample.value, 0);
}

/** The PodENIAnnotationForged events of one pod, once there is at least one. */
async function forgeryEvents(namespace: string, name: string): Promise<string[]> {
  return eventually(
    async () => {
      const messages = (await eventsOf(world.client, namespace, name))
        .filter((event) => event.reason === 'PodENIAnnotationForged' && event.type === 'Warning')
        .map((event) => event.message ?? '');
      if (messages.length === 0) throw new Error('no PodENIAnnotationForged event yet');
      return messages;
    },
    { waitingFor: `a PodENIAnnotationForged event on pod ${namespace}/${name}`, timeoutMs: 60_000 },
  );
}

describe('pod-eni annotations the operator did not write', () => {
  test('a copy of another pod’s annotation is removed outside the policy namespaces; the original stays', async () => {
    const node = await world.addManagedNode('forged');
    const victims = await world.namespace('victims');
    await world.client.create(
      Kinds.SecurityGroupPolicy,
      testPolicy(victims, 'rds', [world.groups['rds-access'] ?? ''], { podSelector: { matchLabels: SERVICE } }),
    );
    await createTestPod(world.client, victims, 'db-client', { nodeName: node, labels: SERVICE });
    const victim = await waitAnnotated(world.client, victims, 'db-client');
    const stolen = (await annotationOf(victims, 'db-client')) ?? '';
    // One more update of the operator's annotated pod, before the forgeries below: it is reconciled again.
    await world.client.mergePatch(Kinds.Pod, `${victims}/db-client`, { metadata: { labels: { audited: 'yes' } } });
    const before = await forgedTotal();

    const elsewhere = await world.namespace('no-policy');
    // Without the pod-eni request (the annotation alone) and with it (what the CNI needs to act on it).
    await createTestPod(world.client, elsewhere, 'bare', {
      nodeName: node,
      podEni: false,
      annotations: { [POD_ENI_ANNOTATION]: stolen },
    });
    await createTestPod(world.client, elsewhere, 'intruder', {
      nodeName: node,
      annotations: { [POD_ENI_ANNOTATION]: stolen },
    });

    const expected =
      `removed annotation ${POD_ENI_ANNOTATION} of pod ${elsewhere}/bare, which sgp-operator did not write: it named ` +
      `ENI ${victim.eniId} (MAC ${victim.ifAddress}, IP ${victim.privateIp}) on VLAN ${victim.vlanId}; expected no ` +
      'annotation: no BranchInterface of this pod exists. If the pod started with it, the VPC CNI may have wired it ' +
      'into that ENI, and removing the annotation does not undo that: delete the pod so that it starts again with ' +
      'its own network';
    expect(await forgeryEvents(elsewhere, 'bare')).toEqual([expected]);
    expect(await annotationOf(elsewhere, 'bare')).toBeUndefined();
    expect(await forgeryEvents(elsewhere, 'intruder')).toHaveLength(1);
    // The intruder asks for a branch ENI of its own (no policy: the node's groups): its annotation ends up naming
    // that ENI, never the victim's.
    const own = await waitAnnotated(world.client, elsewhere, 'intruder');
    expect(own.eniId).not.toBe(victim.eniId);
    expect(await forgedTotal()).toBe(before + 2);

    // Both forgeries were seen after the victim's last update: the victim's annotation is the operator's, intact.
    expect(await annotationOf(victims, 'db-client')).toBe(stolen);
    expect(
      (await eventsOf(world.client, victims, 'db-client')).filter((event) => event.reason === 'PodENIAnnotationForged'),
    ).toEqual([]);
  });
});
