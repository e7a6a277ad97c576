/**
 * The operator binary as a child process of a benchmark, so its RSS and CPU are its own: built as the image
 * builds it, started against the benchmark world (webhooks off, metrics and probes on free loopback ports),
 * sampled from /proc, stopped with SIGTERM.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../hack/control-plane/control-plane.ts';
import { progress } from './report.ts';
import { REGION, type BenchWorld } from './world.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * The operator binary of the checkout at `root`: operator/main.ts itself with `source` (type stripping, as
 * `make run`), else compiled as the Dockerfile does (tsconfig.build.json, the limits table copied beside the
 * compiled module) into `root/.bench-results/dist`, from where package.json and node_modules resolve as in
 * the image.
 */
export function operatorBinary(root: string, options: { source: boolean }): string {
  if (options.source) return join(root, 'operator', 'main.ts');
  const outDir = join(root, '.bench-results', 'dist');
  progress(`compiling ${root} into ${outDir}`);
  execFileSync(TSC, ['-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  copyFileSync(
    join(root, 'operator', 'limits', 'instance-types.json'),
    join(outDir, 'operator', 'limits', 'instance-types.json'),
  );
  return join(outDir, 'operator', 'main.js');
}

export interface ProcessSample {
  rssBytes: number;
  cpuSeconds: number;
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** RSS and CPU (utime + stime) now. */
  sample(): ProcessSample;
  /** Resolves with ms since spawn once /readyz answers 200. */
  waitReady(timeoutMs: number): Promise<number>;
  /** V8 heap figures from the operator's /metrics (prom-client's default process metrics). */
  heap(): Promise<{ totalBytes: number; usedBytes: number; externalBytes: number }>;
  /** The operator's /metrics text. */
  scrape(): Promise<string>;
  /** Has the process write a heap snapshot into the `snapshotDir` it was started with; resolves when written. */
  writeHeapSnapshot(): Promise<string>;
  /**
   * A full garbage collection, asked for through the inspector (started with `inspect`), so the heap in use
   * right after is what is live; unlike a heap snapshot it leaves no memory of its own behind.
   */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOperatorProcess(
  world: BenchWorld,
  options: {
    main: string;
    nodeFlags: readonly string[];
    args?: readonly string[];
    snapshotDir?: string;
    /** Open the inspector on a loopback port (for collectGarbage). */
    inspect?: boolean;
  },
): Promise<OperatorProcess> {
  const [healthPort, metricsPort, inspectorPort] = await freePorts(3);
  const { snapshotDir } = options;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...options.nodeFlags,
      ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
      ...(options.inspect ? [`--inspect=127.0.0.1:${inspectorPort}`] : []),
      options.main,
      ...['--kubeconfig', world.plane.kubeconfigPath, '--cluster-name', 'bench', '--region', REGION],
      ...['--vpc-id', world.vpcId, '--ec2-endpoint', world.emulator.endpoint, '--enable-webhooks=false'],
      // Plain HTTP: the heap figures are read from /metrics without a token.
      ...['--metrics-bind-address', `127.0.0.1:${metricsPort}`, '--metrics-secure=false'],
      ...['--health-probe-bind-address', `127.0.0.1:${healthPort}`, '--log-level', 'error'],
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    },
  );
  const pid = child.pid ?? 0;
  const readyzUrl = `http://127.0.0.1:${healthPort}/readyz`;
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return {
    child,
    sample: () => sampleProcess(pid),
    async waitReady(timeoutMs) {
      for (;;) {
        const isReady = await fetch(readyzUrl).then(
          (r) => r.ok,
          () => false,
        );
        if (isReady) return performance.now() - started;
        if (child.exitCode !== null) throw new Error(`operator exited with ${child.exitCode} before it was ready`);
        if (performance.now() - started > timeoutMs) throw new Error(`operator not ready after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    scrape,
    async heap() {
      const text = await scrape();
      const value = (name: string) => Number(new RegExp(`^nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return {
        totalBytes: value('heap_size_total_bytes'),
        usedBytes: value('heap_size_used_bytes'),
        externalBytes: value('external_memory_bytes'),
      };
    },
    async writeHeapSnapshot() {
      if (snapshotDir === undefined) throw new Error('started without a snapshot folder');
      // Node writes the snapshot synchronously on the main thread: once the file exists, the next /readyz
      // answer means the write has finished.
      const snapshots = async () => (await readdir(snapshotDir)).filter((name) => name.endsWith('.heapsnapshot'));
      const before = new Set(await snapshots());
      child.kill('SIGUSR2');
      for (;;) {
        const written = (await snapshots()).find((name) => !before.has(name));
        if (written) {
          await fetch(readyzUrl);
          return join(snapshotDir, written);
        }
        if (child.exitCode !== null) {
          throw new Error(`operator exited with ${child.exitCode} while writing a heap snapshot`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async collectGarbage() {
      if (!options.inspect) throw new Error('started without the inspector');
      const [target] = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
        webSocketDebuggerUrl: string;
      }[];
      if (target === undefined) throw new Error('the inspector lists no target');
      const socket = new WebSocket(target.webSocketDebuggerUrl);
      try {
        await new Promise<void>((resolve, reject) => {
          socket.addEventListener('open', () =>
            socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })),
          );
          socket.addEventListener('message', (event) => {
            const reply = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
            if (reply.id !== 1) return;
            if (reply.error) reject(new Error(`HeapProfiler.collectGarbage: ${reply.error.message}`));
            else resolve();
          });
          socket.addEventListener('error', () => reject(new Error('inspector connection failed')));
        });
      } finally {
        socket.close();
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** RSS and CPU (utime + stime) of process `pid`, from /proc. */
export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return { rssBytes: rssKiB * 1024, cpuSeconds: ticks / TICKS_PER_SECOND };
}
