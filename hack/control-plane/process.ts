/**
 * One control-plane process (etcd or kube-apiserver): spawned in its own process group with output to a log
 * file, watched so that it never outlives the Node process that started it, stopped with SIGTERM then SIGKILL.
 *
 * Why a watchdog: a test runner interrupted with Ctrl-C, or killed outright, runs no teardown and no 'exit'
 * handler. Each process therefore gets a tiny shell that holds the read end of a pipe whose write end only
 * this Node process holds; when it dies for any reason the kernel closes the pipe, the shell's `read` returns,
 * and the shell kills the process group. Nothing polls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

import { ControlPlaneError } from './errors.ts';

const STOP_TIMEOUT_MS = 20_000;

/**
 * $1 = process group, $2 = folder to delete once the group is gone (a temp data dir), may be empty.
 * bash, not sh: dash's kill builtin cannot signal a process group (`kill -- -PGID`). SIGTERM first (etcd and
 * kube-apiserver shut down in a few seconds), SIGKILL after 10 s.
 */
const WATCHDOG_SCRIPT = `read -r _
kill -TERM -- "-$1" 2>/dev/null
for _ in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || break; sleep 0.2; done
kill -KILL -- "-$1" 2>/dev/null
if [ -n "$2" ]; then sleep 0.2; rm -rf -- "$2"; fi`;
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL every group still running.
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

export interface SpawnSpec {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Deleted by the watchdog after the process is killed because its parent died (a temp data dir). */
  readonly removeWhenOrphaned?: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #watchdog: ChildProcess;
  readonly #exited: Promise<number | string>;
  #exitStatus: number | string | undefined;
  #stopping = false;

  constructor(spec: SpawnSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    const log = openSync(spec.logFile, 'a');
    try {
      // detached: the child leads a new session and process group, so Ctrl-C in the terminal does not reach it
      // before we stop it in order (apiserver first), and the whole group can be signalled at once.
      this.#child = spawn(spec.binary, spec.args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: spec.env ?? process.env,
      });
    } finally {
      closeSync(log);
    }
    const pid = this.#child.pid;
    if (pid === undefined) throw new ControlPlaneError(`could not start ${spec.name} (${spec.binary})`);
    this.pid = pid;
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exitStatus = code ?? signal ?? 'unknown';
        live.delete(this);
        resolve(this.#exitStatus);
      });
      this.#child.once('error', (error) => {
        this.#exitStatus = error.message;
        live.delete(this);
        resolve(error.message);
      });
    });
    this.#watchdog = spawn('bash', ['-c', WATCHDOG_SCRIPT, 'watchdog', `${pid}`, spec.removeWhenOrphaned ?? ''], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.#watchdog.unref();
    this.#watchdog.stdin?.on('error', () => this.#watchdog.kill('SIGKILL'));
    // The pipe must not keep the event loop alive (a CLI exits when its work is done).
    (this.#watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.#child.unref();
    live.add(this);
    installExitHook();
  }

  /** Exit code or signal once the process has exited, else undefined. */
  get exitStatus(): number | string | undefined {
    return this.#exitStatus;
  }

  get isRunning(): boolean {
    return this.#exitStatus === undefined;
  }

  /** Resolves with the exit code or signal when the process exits. */
  exited(): Promise<number | string> {
    return this.#exited;
  }

  /** Was the exit our doing (stop) rather than a crash? */
  get wasStopped(): boolean {
    return this.#stopping;
  }

  /** Last lines of the log, for error messages. */
  logTail(lines = 5): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM the group, SIGKILL after 20 s; resolves when the process has exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.isRunning) {
      this.#signal('SIGTERM');
      const timer = setTimeout(() => this.#signal('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#endWatchdog();
  }

  /** Synchronous SIGKILL of the group (for 'exit' handlers). */
  killNow(): void {
    this.#stopping = true;
    this.#signal('SIGKILL');
    this.#endWatchdog();
  }

  #signal(signal: NodeJS.Signals): void {
    if (!this.isRunning) return;
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      // ESRCH: the group is already gone, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  #endWatchdog(): void {
    if (this.#watchdog.exitCode === null && this.#watchdog.signalCode === null) this.#watchdog.kill('SIGKILL');
  }
}

/**
 * Polls `check` every `intervalMs` until it returns true. Fails fast, with the process's log tail, when one of
 * `processes` exits; fails after `timeoutMs` naming `what`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; processes: readonly ManagedProcess[] },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    for (const p of options.processes) {
      if (!p.isRunning) {
        throw new ControlPlaneError(
          `${p.name} exited (${p.exitStatus}) while waiting for ${what}; log ${p.logFile}:\n${p.logTail()}`,
          { logFile: p.logFile },
        );
      }
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      const logs = options.processes.map((p) => p.logFile).join(', ');
      throw new ControlPlaneError(
        `timed out after ${options.timeoutMs / 1000}s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}; logs: ${logs}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
