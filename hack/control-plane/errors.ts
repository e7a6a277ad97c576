/**
 * The control plane could not start or stop. The message is one line a user can act on (what is missing and
 * what to install or set); `logFile` names the process log to read when a process died.
 */
export class ControlPlaneError extends Error {
  readonly logFile: string | undefined;
  constructor(message: string, options?: { cause?: unknown; logFile?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ControlPlaneError';
    this.logFile = options?.logFile;
  }
}
