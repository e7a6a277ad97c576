/**
 * Operator replicas as child processes (`node operator/main.ts …`), each in its own process group so a
 * SIGKILL takes the whole replica down at once and nothing outlives the test. Which one leads is read from the
 * Lease's holder and the identity each replica logs when it is built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

export interface ReplicaSettings {
  kubeconfigPath: string;
  clusterName: string;
  vpcId: string;
  ec2Endpoint: string;
  /** One [metrics, health] port pair per replica slot. */
  ports: [number, number][];
  /** Flags of the variant under test (e.g. the warm branch ENI limit), after the common ones. */
  extraArgs: readonly string[];
}

interface Slot {
  child: ChildProcess | undefined;
  logPath: string;
  exited: Promise<void> | undefined;
  incarnation: number;
}

export class Replicas {
  readonly logDir = mkdtempSync(join(tmpdir(), 'sgp-chaos-'));
  readonly #settings: ReplicaSettings;
  readonly #slots: Slot[];

  constructor(settings: ReplicaSettings) {
    this.#settings = settings;
    this.#slots = settings.ports.map(() => ({ child: undefined, logPath: '', exited: undefined, incarnation: 0 }));
    // Last resort if the test process dies without its afterAll: no orphan operators.
    process.once('exit', () => this.killAllSync());
  }

  get count(): number {
    return this.#slots.length;
  }

  start(index: number): void {
    const slot = this.#slot(index);
    if (slot.child) return;
    const [metricsPort, healthPort] = this.#settings.ports[index] ?? [0, 0];
    slot.incarnation += 1;
    slot.logPath = join(this.logDir, `replica-${index}.${slot.incarnation}.log`);
    const out = openSync(slot.logPath, 'a');
    const s = this.#settings;
    const child = spawn(
      process.execPath,
      [
        'operator/main.ts',
        ...['--cluster-name', s.clusterName, '--vpc-id', s.vpcId, '--ec2-endpoint', s.ec2Endpoint],
        ...['--region', 'us-west-2', '--leader-elect', '--leader-election-namespace', 'default'],
        ...['--lease-duration-seconds', '4', '--renew-deadline-seconds', '3', '--retry-period-seconds', '1'],
        ...['--branch-cooldown-seconds', '30', '--enable-webhooks', 'false', '--log-level', 'info'],
        // The leak sweeper runs every 2 s, so its second-sweep paths (a candidate seen twice, then confirmed by
        // pod UID) run many times amid the kills; liveEniDeletions would catch it deleting a live pod's ENI.
        ...['--leak-sweep-interval-seconds', '2', '--leak-sweep-initial-delay-seconds', '0'],
        ...['--metrics-bind-address', `127.0.0.1:${metricsPort}`],
        ...['--health-probe-bind-address', `127.0.0.1:${healthPort}`],
        ...s.extraArgs,
      ],
      {
        cwd: REPO,
        detached: true,
        stdio: ['ignore', out, out],
        env: {
          ...process.env,
          KUBECONFIG: s.kubeconfigPath,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_EC2_METADATA_DISABLED: 'true',
          OTEL_SDK_DISABLED: 'true',
        },
      },
    );
    closeSync(out);
    slot.child = child;
    slot.exited = new Promise((done) => {
      child.once('exit', () => {
        if (slot.child === child) slot.child = undefined;
        done();
      });
    });
  }

  isRunning(index: number): boolean {
    return this.#slot(index).child !== undefined;
  }

  /** The running replica whose current incarnation runs as `identity` (its "operator built" log line). */
  indexOf(identity: string): number | undefined {
    const index = this.#slots.findIndex((slot) => slot.child !== undefined && identityIn(slot.logPath) === identity);
    return index < 0 ? undefined : index;
  }

  /** Sends `signal` to the replica's process group and waits until it has exited. */
  async stop(index: number, signal: NodeJS.Signals): Promise<void> {
    const slot = this.#slot(index);
    const child = slot.child;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
    await slot.exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#slots.map((_, index) => this.stop(index, 'SIGKILL')));
  }

  killAllSync(): void {
    for (const slot of this.#slots) {
      if (!slot.child?.pid) continue;
      try {
        process.kill(-slot.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Log lines of every incarnation that mention an error, for the failure message. */
  tail(index: number, lines = 20): string {
    try {
      return readFileSync(this.#slot(index).logPath, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (!slot) throw new Error(`no replica slot ${index}`);
    return slot;
  }
}

function identityIn(logPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"operator built"')) continue;
    try {
      return (JSON.parse(line) as { identity?: string }).identity;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
