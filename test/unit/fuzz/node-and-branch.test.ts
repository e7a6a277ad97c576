/**
 * Property tests: hostile Nodes (bad providerIDs, unknown or missing instance types, huge label sets) and
 * branch decisions (VLAN choice, cooldown, the pod's branch plan) under arbitrary input. Node eligibility
 * must always give a verdict with a named cause and, where the user asked for something impossible, a
 * Warning event; the node reconciler (run against the in-memory fakes) must never throw on such a node and
 * must create a TrunkInterface only for a node that is really eligible. VLANs stay in 1..120 and unique.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { MAX_VLAN_ID, MIN_VLAN_ID } from '../../../operator/api/constants.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { CNINode, TrunkInterface } from '../../../operator/api/types.ts';
import {
  MINIMUM_COOLDOWN_MS,
  parseCooldownSetting,
  releasable,
} from '../../../operator/controllers/branchinterface/cooldown.ts';
import { allocateVlan, chooseVlan } from '../../../operator/controllers/branchinterface/vlan.ts';
import { NodeReconciler } from '../../../operator/controllers/node/controller.ts';
import { nodeEligibility } from '../../../operator/controllers/node/eligibility.ts';
import { NodeEvents } from '../../../operator/controllers/node/events.ts';
import type { NodeObject } from '../../../operator/controllers/node/node-object.ts';
import { createLimitsProvider } from '../../../operator/limits/index.ts';
import { EmulatedEc2 } from '../../kit/ec2.ts';
import { FakeKube, FakeRecorder, reconcileContext } from '../../kit/kube.ts';
import { FUZZ_PARAMETERS, hex, hugeLabels, labels } from './arbitraries.ts';
import { DEFAULT_POD_NETWORK } from '../../../operator/controllers/podnetwork/index.ts';

const providerId = fc.oneof(
  hex(17).map((h) => `aws:///us-west-2a/i-${h}`),
  fc.constantFrom(
    '',
    'aws://',
    'aws:///',
    'aws:///us-west-2a/',
    'aws:///us-west-2a/i-',
    'aws:///us-west-2a/i-XYZ',
    'aws:///us-west-2a/i-0123456789abcdef01234',
    'aws:///us-west-2a/abc/fargate-ip-10-0-0-1.ec2.internal',
    'gce://project/zone/instance',
    'kind://docker/kind/kind-control-plane',
    'i-0123456789abcdef0',
    'aws:///us-west-2a/i-0123456789abcdef0/',
    '\u0000aws:///x/i-00000000',
  ),
  fc.string({ maxLength: 60 }),
);
const instanceType = fc.oneof(
  fc.constantFrom('m5.large', 'm5.24xlarge', 't3.medium', 'c5.xlarge', 'm99.gigantic', '', 'M5.LARGE', ' m5.large'),
  fc.string({ maxLength: 20 }),
);
const node: fc.Arbitrary<NodeObject> = fc
  .record(
    {
      providerID: providerId,
      instanceType,
      computeType: fc.constantFrom('auto', 'fargate', 'ec2', 'hybrid', ''),
      legacyLabel: fc.constantFrom('true', 'false', ''),
      extra: labels(8),
      huge: fc.option(hugeLabels, { freq: 10, nil: undefined }),
    },
    { requiredKeys: ['extra'] },
  )
  .map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'node-fuzz',
      labels: {
        ...n.huge,
        ...n.extra,
        ...(n.instanceType === undefined ? {} : { 'node.kubernetes.io/instance-type': n.instanceType }),
        ...(n.computeType === undefined ? {} : { 'eks.amazonaws.com/compute-type': n.computeType }),
        ...(n.legacyLabel === undefined ? {} : { 'vpc.amazonaws.com/has-trunk-attached': n.legacyLabel }),
      },
    },
    ...(n.providerID === undefined ? {} : { spec: { providerID: n.providerID } }),
  }));
const cniNode = fc.option(
  fc.record({
    features: fc.array(
      fc.record({ name: fc.constantFrom('SecurityGroupsForPods', 'securitygroupsforpods', 'Other', '') }),
      { maxLength: 3 },
    ),
  }),
  { nil: undefined },
);

function asCniNode(spec: { features: { name: string }[] } | undefined): CNINode | undefined {
  return spec === undefined
    ? undefined
    : { apiVersion: 'vpcresources.k8s.aws/v1alpha1', kind: 'CNINode', metadata: { name: 'node-fuzz' }, spec };
}

describe('node eligibility under hostile Nodes', () => {
  // EC2 is only asked for instance types the table does not know; the emulator knows the same table.
  const ec2 = new EmulatedEc2();
  const limitsProvider = createLimitsProvider({ ec2, overrides: () => ({}) });

  test('always a verdict; unmanaged ones name their cause, and Warning events say what to do', async () => {
    await fc.assert(
      fc.asyncProperty(node, cniNode, async (n, cni) => {
        const type = n.metadata.labels?.['node.kubernetes.io/instance-type'];
        const limits = type ? await limitsProvider.get(type).catch(() => undefined) : undefined;
        const verdict = nodeEligibility({ node: n, cniNode: asCniNode(cni), limits });
        if (verdict.managed) {
          expect(verdict.instanceId).toMatch(/^i-[0-9a-f]{8,17}$/);
          expect(n.spec?.providerID).toMatch(/^aws:\/\/.*\/i-[0-9a-f]{8,17}$/);
          expect(verdict.limits.isTrunkingCompatible).toBe(true);
          expect(verdict.limits.branchEnis).toBeGreaterThan(0);
          expect(['auto', 'fargate']).not.toContain(n.metadata.labels?.['eks.amazonaws.com/compute-type']);
        } else {
          expect(verdict.message).toContain('node-fuzz');
          if (verdict.event) {
            expect(verdict.event.message).toBe(verdict.message);
            expect(verdict.event.reason.length).toBeGreaterThan(0);
          }
          if (verdict.event?.type === 'Warning') {
            expect(verdict.message).toMatch(/add it|check the node|use a Nitro/);
          }
        }
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('the node reconciler never throws on a hostile Node, and a TrunkInterface means eligible', async () => {
    await fc.assert(
      fc.asyncProperty(node, async (n) => {
        const kube = new FakeKube();
        const recorder = new FakeRecorder();
        const limits = createLimitsProvider({ ec2, overrides: () => ({}) });
        const reconciler = new NodeReconciler({
          client: kube,
          ec2,
          limits,
          cluster: { clusterName: 'prod', vpcId: 'vpc-1', podNetwork: DEFAULT_POD_NETWORK },
          events: new NodeEvents(recorder),
          nodes: kube.reader<NodeObject>(Kinds.Node),
          cniNodes: kube.reader<CNINode>(Kinds.CNINode),
          trunks: kube.reader<TrunkInterface>(Kinds.TrunkInterface),
        });
        kube.seed(Kinds.Node, n);
        await reconciler.reconcile('node-fuzz', reconcileContext());
        await reconciler.reconcile('node-fuzz', reconcileContext());
        const type = n.metadata.labels?.['node.kubernetes.io/instance-type'];
        const typeLimits = type ? await limits.get(type).catch(() => undefined) : undefined;
        const cni = kube.get<CNINode>(Kinds.CNINode, 'node-fuzz');
        const verdict = nodeEligibility({ node: n, cniNode: await cni, limits: typeLimits });
        const trunk = await kube.get<TrunkInterface>(Kinds.TrunkInterface, 'node-fuzz');
        expect(trunk !== undefined).toBe(verdict.managed);
        if (trunk) expect(trunk.spec.instanceId).toMatch(/^i-[0-9a-f]{8,17}$/);
        // Reconciling twice never repeats an event (no event storm on every resync).
        const keys = recorder.events.map((e) => `${e.reason}/${e.message}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const event of recorder.events) expect(event.message).toContain('node-fuzz');
      }),
      { ...FUZZ_PARAMETERS, numRuns: 100 },
    );
  });
});

describe('VLAN choice under arbitrary occupancy', () => {
  const taken = fc.array(fc.integer({ min: -5, max: 130 }), { maxLength: 140 });

  test('chooseVlan returns the lowest free id in 1..min(limit,120), or undefined only when none is free', () => {
    fc.assert(
      fc.property(taken, fc.integer({ min: -10, max: 500 }), (inUse, limit) => {
        const vlan = chooseVlan(inUse, limit);
        const top = Math.min(limit, MAX_VLAN_ID);
        const free = Array.from({ length: Math.max(0, top) }, (_, i) => i + 1).filter((v) => !inUse.includes(v));
        expect(vlan).toBe(free[0]);
        if (vlan !== undefined) {
          expect(vlan).toBeGreaterThanOrEqual(MIN_VLAN_ID);
          expect(vlan).toBeLessThanOrEqual(MAX_VLAN_ID);
        }
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('allocating one branch after another on a trunk never repeats a VLAN nor exceeds capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 400 }),
        (capacity, ops) => {
          const inUse = new Set<number>();
          for (const allocate of ops) {
            if (!allocate && inUse.size > 0) {
              inUse.delete([...inUse][inUse.size >> 1] as number);
              continue;
            }
            const result = allocateVlan(inUse, capacity);
            if (result.outcome === 'allocated') {
              expect(inUse.has(result.vlanId)).toBe(false);
              expect(result.vlanId).toBeGreaterThanOrEqual(MIN_VLAN_ID);
              expect(result.vlanId).toBeLessThanOrEqual(MAX_VLAN_ID);
              inUse.add(result.vlanId);
            } else if (result.outcome === 'at-capacity') {
              expect(inUse.size).toBeGreaterThanOrEqual(capacity);
            } else {
              expect(inUse.size).toBeGreaterThanOrEqual(MAX_VLAN_ID);
            }
            expect(inUse.size).toBeLessThanOrEqual(Math.min(Math.max(capacity, 0), MAX_VLAN_ID));
          }
        },
      ),
      FUZZ_PARAMETERS,
    );
  });
});

describe('cooldown under hostile settings and timestamps', () => {
  test('parseCooldownSetting never sets below the minimum and explains every value it ignores or raises', () => {
    const raw = fc.oneof(
      fc.constantFrom('60', '0', '-1', '29.5', '1e3', 'NaN', 'Infinity', '', '   ', '30s', '0x20', '9'.repeat(400)),
      fc.integer({ min: -100, max: 100_000 }).map(String),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.option(raw, { nil: undefined }), (value) => {
        const setting = parseCooldownSetting(value, MINIMUM_COOLDOWN_MS);
        if (setting.outcome === 'set') {
          expect(Number.isFinite(setting.cooldownMs)).toBe(true);
          expect(setting.cooldownMs).toBeGreaterThanOrEqual(MINIMUM_COOLDOWN_MS);
          if (setting.cooldownMs === MINIMUM_COOLDOWN_MS && Number(value) * 1000 < MINIMUM_COOLDOWN_MS) {
            expect(setting.warning).toContain('below the minimum');
          }
        } else if (value !== undefined) {
          expect(setting.warning).toContain('branch-eni-cooldown');
        }
      }),
      FUZZ_PARAMETERS,
    );
  });

  test('releasable: never negative, never waits longer than the cooldown, garbage timestamps release', () => {
    const stamp = fc.oneof(
      fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc.constantFrom('', 'yesterday', '2026-13-45T99:99:99Z', 'null'),
    );
    fc.assert(
      fc.property(
        fc.option(stamp, { nil: undefined }),
        fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') }),
        fc.integer({ min: 0, max: 86_400_000 }),
        (requestedAt, nowMs, cooldownMs) => {
          const verdict = releasable(
            requestedAt === undefined ? {} : { status: { releaseRequestedAt: requestedAt } },
            nowMs,
            cooldownMs,
          );
          expect(verdict.remainingMs).toBeGreaterThanOrEqual(0);
          const requestedMs = requestedAt ? Date.parse(requestedAt) : Number.NaN;
          if (requestedAt === undefined || requestedAt === '') {
            // Release never requested: not releasable, and the whole cooldown still ahead.
            expect(verdict).toEqual({ releasable: false, remainingMs: cooldownMs });
          } else if (Number.isNaN(requestedMs)) {
            // A timestamp nobody can wait on must not hold the ENI forever.
            expect(verdict).toEqual({ releasable: true, remainingMs: 0 });
          } else if (requestedMs <= nowMs) {
            expect(verdict.remainingMs).toBeLessThanOrEqual(cooldownMs);
            expect(verdict.releasable).toBe(verdict.remainingMs === 0);
          }
        },
      ),
      FUZZ_PARAMETERS,
    );
  });
});
