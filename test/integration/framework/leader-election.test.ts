/**
 * Leader election between two managers on one Lease (real apiserver). Both run informers; only the
 * leader reconciles. Each reconcile marks a shared ConfigMap "active" (with a resourceVersion
 * precondition), does some work, and clears it; a reconcile that finds another replica active records
 * a violation. The leader then dies without releasing the Lease (`crash()`, what SIGKILL does to a
 * process), and the standby must take over within the lease duration.
 */
import { afterAll, expect, test } from '@jest/globals';
import { KubeConflictError, createKubeClient, createManager } from '../../../operator/framework/index.ts';
import type { FrameworkManager, KubeObject } from '../../../operator/framework/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { eventually, clusterAccess, testNamespace, uniqueName } from '../harness/index.ts';

const CONFIG_MAP = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const LEASE = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };
type Lease = KubeObject & { spec?: { holderIdentity?: string } };

const LEASE_DURATION_MS = 4000;
const stops: AbortController[] = [];
const runs: Promise<void>[] = [];

afterAll(async () => {
  for (const stop of stops) stop.abort();
  await Promise.allSettled(runs);
});

test('only the leader reconciles; when it dies the standby takes over within the lease duration', async () => {
  const namespace = await testNamespace('fw-leader');
  const client = createKubeClient(clusterAccess());
  const leaseName = uniqueName('leader');
  const counter = uniqueName('counter');
  const counterKey = `${namespace}/${counter}`;
  await client.create<ConfigMap>(CONFIG_MAP, { metadata: { name: counter, namespace }, data: { active: '' } });

  const violations: string[] = [];
  // Both managers run in this process, so overlap is detected exactly: a replica is in `reconcilingNow` for
  // the whole of each reconcile, including one a crash aborts midway (a marker in the API server would stay
  // set after such an abort and report a dead replica as active).
  const reconcilingNow = new Set<string>();
  const reconciles = new Map<string, number>();
  const managers = new Map<string, FrameworkManager>();
  const results = new Map<string, PromiseSettledResult<void>>();

  for (const identity of ['replica-a', 'replica-b']) {
    const manager = createManager({
      client,
      log: silentLogger,
      leaderElection: {
        enabled: true,
        namespace,
        name: leaseName,
        identity,
        leaseDurationMs: LEASE_DURATION_MS,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
      },
    });
    const configMaps = manager.informer<ConfigMap>({ kind: CONFIG_MAP, namespace });
    const controller = manager.controller({
      name: uniqueName(identity),
      reconciler: {
        async reconcile(key, { signal }) {
          if (key !== counterKey) return;
          for (const other of reconcilingNow) violations.push(`${identity} reconciled while ${other} was reconciling`);
          reconcilingNow.add(identity);
          try {
            const current = await client.get<ConfigMap>(CONFIG_MAP, key);
            if (!current) return;
            try {
              await client.mergePatch(
                CONFIG_MAP,
                key,
                { data: { active: identity } },
                { resourceVersion: current.metadata.resourceVersion ?? '' },
              );
            } catch (error) {
              if (error instanceof KubeConflictError) violations.push(`${identity} raced another writer`);
              throw error;
            }
            reconciles.set(identity, (reconciles.get(identity) ?? 0) + 1);
            signal.throwIfAborted();
          } finally {
            reconcilingNow.delete(identity);
          }
          return { requeueAfterMs: 50 };
        },
      },
    });
    controller.watch(configMaps);
    const stop = new AbortController();
    stops.push(stop);
    const run = manager.start(stop.signal);
    runs.push(run);
    void run.then(
      (value) => results.set(identity, { status: 'fulfilled', value }),
      (reason: unknown) => results.set(identity, { status: 'rejected', reason }),
    );
    managers.set(identity, manager);
  }

  const leaderOf = () => [...managers].filter(([, m]) => m.isLeader()).map(([id]) => id);
  const first = await eventually(
    () => {
      const leaders = leaderOf();
      expect(leaders).toHaveLength(1);
      expect(reconciles.get(leaders[0] ?? '') ?? 0).toBeGreaterThan(5);
      return leaders[0] ?? '';
    },
    { timeoutMs: 30_000, waitingFor: 'one leader reconciling' },
  );
  const standby = first === 'replica-a' ? 'replica-b' : 'replica-a';
  expect(reconciles.get(standby) ?? 0).toBe(0);

  managers.get(first)?.crash();
  const standbyBefore = reconciles.get(standby) ?? 0;
  await eventually(() => expect(results.get(first)?.status).toBe('rejected'), {
    timeoutMs: 10_000,
    waitingFor: `${first} to notice it is dead and stop reconciling`,
  });
  const firstAfterDeath = reconciles.get(first) ?? 0;
  // The crashed leader never released: the Lease still names it until the standby takes over.
  await eventually(
    async () => {
      expect(leaderOf()).toEqual([standby]);
      expect((await client.get<Lease>(LEASE, `${namespace}/${leaseName}`))?.spec?.holderIdentity).toBe(standby);
      expect(reconciles.get(standby) ?? 0).toBeGreaterThan(standbyBefore + 5);
    },
    { timeoutMs: LEASE_DURATION_MS * 3, waitingFor: `${standby} to take over and reconcile` },
  );
  expect(reconciles.get(first) ?? 0).toBe(firstAfterDeath);
  expect(violations).toEqual([]);

  // A graceful stop releases the Lease (empty holder) instead of leaving it to expire.
  stops[[...managers.keys()].indexOf(standby)]?.abort();
  await eventually(
    async () =>
      expect((await client.get<Lease>(LEASE, `${namespace}/${leaseName}`))?.spec?.holderIdentity ?? '').toBe(''),
    { timeoutMs: 10_000, waitingFor: 'the stopped leader to release the Lease' },
  );
}, 120_000);
