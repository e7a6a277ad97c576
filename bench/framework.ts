/**
 * Framework benchmark (in memory, no apiserver):
 *  1. reconcile throughput of a no-op controller over N objects (default 10,000) through the real
 *     ControllerRunner and WorkQueue (dedup, processing set, metrics), for 1 and 4 workers;
 *  2. heap per N cached Pods in the informer's ObjectStore, full objects as the apiserver sends them
 *     (parsed from JSON, managedFields included) versus the lean projection (operator/api/pod.ts).
 *
 *   node --expose-gc bench/framework.ts [--objects 10000]
 * Prints one JSON object, then a short table.
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { ControllerRunner } from '../operator/framework/controller.ts';
import { ObjectStore } from '../operator/framework/cache.ts';
import { systemClock } from '../operator/framework/clock.ts';
import { toLeanPod } from '../operator/api/pod.ts';
import type { LeanPod } from '../operator/api/pod.ts';
import { silentLogger } from '../operator/observability/logger.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Heap deltas mean nothing without a forced collection: re-run ourselves with --expose-gc.
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}
const forceGc = gc;

const { values } = parseArgs({ options: { objects: { type: 'string', default: '10000' } } });
const objects = Number(values.objects);

async function throughput(workers: number): Promise<{ workers: number; seconds: number; reconcilesPerSecond: number }> {
  let done = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const controller = new ControllerRunner(
    {
      name: `bench-${workers}`,
      workers,
      reconciler: {
        reconcile: async () => {
          if (++done === objects) finish();
        },
      },
    },
    { clock: systemClock, log: silentLogger },
  );
  const stop = new AbortController();
  const started = performance.now();
  const running = controller.start(stop.signal);
  for (let i = 0; i < objects; i++) controller.enqueue(`ns-${i % 100}/pod-${i}`);
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  stop.abort();
  await running;
  return { workers, seconds: round(seconds, 3), reconcilesPerSecond: Math.round(objects / seconds) };
}

/** A Pod as a real apiserver returns it for a typical Deployment replica (≈ 4 KB of JSON). */
function fullPodJson(i: number): string {
  const name = `web-7d9f8c6b5-${i.toString(36).padStart(5, '0')}`;
  const node = `ip-10-0-${i % 250}-${i % 200}.us-west-2.compute.internal`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: 'web-7d9f8c6b5-',
      namespace: `team-${i % 50}`,
      uid: `0b1f2c3d-4e5f-6a7b-8c9d-${i.toString(16).padStart(12, '0')}`,
      resourceVersion: String(100000 + i),
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5', tier: 'frontend', 'app.kubernetes.io/version': '1.2.3' },
      annotations: {
        'vpc.amazonaws.com/pod-eni': `[{"eniId":"eni-${i}","ifAddress":"02:00:00:00:00:01","privateIp":"10.0.1.${i % 250}","vlanId":${(i % 120) + 1},"subnetCidr":"10.0.1.0/24"}]`,
        'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9f8c6b5',
          uid: 'rs-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {}, 'f:tier': {} },
              'f:ownerReferences': { '.': {}, 'k:{"uid":"rs-uid"}': {} },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': {},
                  'f:resources': {},
                },
              },
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-01-01T00:00:05Z',
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:podIPs': {},
              'f:startTime': {},
            },
          },
        },
      ],
    },
    spec: {
      nodeName: node,
      serviceAccountName: 'web',
      containers: [
        {
          name: 'web',
          image: '123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.2.3',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: {
            requests: { cpu: '250m', memory: '256Mi', 'vpc.amazonaws.com/pod-eni': '1' },
            limits: { memory: '512Mi', 'vpc.amazonaws.com/pod-eni': '1' },
          },
          volumeMounts: [
            { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
          },
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2026-01-01T00:00:05Z',
      })),
      hostIP: '10.0.0.10',
      podIP: `10.0.1.${i % 250}`,
      podIPs: [{ ip: `10.0.1.${i % 250}` }],
      startTime: '2026-01-01T00:00:01Z',
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          restartCount: 0,
          started: true,
          image: 'web:1.2.3',
          imageID: 'sha256:' + 'a'.repeat(64),
          containerID: 'containerd://' + 'b'.repeat(64),
          state: { running: { startedAt: '2026-01-01T00:00:04Z' } },
        },
      ],
      qosClass: 'Burstable',
    },
  });
}

function heapPerStore(lean: boolean): { bytes: number; bytesPerPod: number } {
  const store = new ObjectStore<LeanPod>({ nodeName: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
  forceGc();
  forceGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < objects; i++) {
    const pod = JSON.parse(fullPodJson(i)) as LeanPod;
    store.upsert(lean ? toLeanPod(pod) : pod);
  }
  forceGc();
  forceGc();
  const bytes = process.memoryUsage().heapUsed - before;
  if (store.size !== objects) throw new Error('store lost objects');
  return { bytes, bytesPerPod: Math.round(bytes / objects) };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

const runs = [await throughput(1), await throughput(4)];
const full = heapPerStore(false);
const lean = heapPerStore(true);
const result = {
  objects,
  throughput: runs,
  cache: {
    fullBytes: full.bytes,
    fullBytesPerPod: full.bytesPerPod,
    leanBytes: lean.bytes,
    leanBytesPerPod: lean.bytesPerPod,
    leanToFullRatio: round(lean.bytes / full.bytes, 3),
    fullJsonBytesPerPod: fullPodJson(0).length,
  },
};
process.stdout.write(JSON.stringify(result) + '\n');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
process.stdout.write(
  [
    '',
    `no-op reconciles over ${objects} keys`,
    ...runs.map(
      (r) => `  workers=${r.workers}  ${r.reconcilesPerSecond.toLocaleString('en')} reconciles/s  (${r.seconds} s)`,
    ),
    `heap for ${objects} cached pods`,
    `  full objects     ${mib(full.bytes)}  (${full.bytesPerPod} B/pod)`,
    `  lean projection  ${mib(lean.bytes)}  (${lean.bytesPerPod} B/pod)  ratio ${result.cache.leanToFullRatio}`,
    '',
  ].join('\n'),
);
