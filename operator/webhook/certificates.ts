/**
 * Where the webhook's serving certificate comes from. Two sources:
 *
 * - Self-signed (default): each replica makes its own CA and serving certificate in memory and rotates
 *   both before they expire. Trade-off, decided here: the operator's RBAC grants no Secrets, and a CA
 *   private key in a ConfigMap would be readable by anyone who can read ConfigMaps in the namespace. So the
 *   key never leaves the process; instead every replica publishes its CA certificate into the caBundle of
 *   both webhook configurations (see ca-bundle.ts), and the bundle holds one CA per live replica. The cost
 *   is a caBundle that grows with replicas (a few hundred bytes each) and a new CA on every restart.
 * - Directory (`--webhook-cert-dir`, for cert-manager users): tls.crt / tls.key (and ca.crt when present)
 *   are read from a mounted Secret and re-read when they change; the operator does not rotate them, and
 *   leaves caBundle to cert-manager's CA injector unless ca.crt is mounted.
 *
 * Rotation is two-phase so no admission call ever sees a certificate the API server cannot verify: the new
 * CA is published first (pending), and only after `activationDelayMs`, long enough for the API server's
 * webhook informer to see the new caBundle, does the server switch to the new certificate. The old CA stays
 * in the bundle until it expires.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../framework/types.ts';
import type { Logger } from '../observability/logger.ts';
import { issueCertificateAuthority, issueServingCertificate, type IssuedCertificate } from './x509.ts';

export interface ServingMaterial {
  certPem: string;
  keyPem: string;
  /** When the certificate stops being valid (ms since epoch). */
  notAfterMs: number;
}

export interface CertificateSource {
  /** What the HTTPS server presents now. */
  serving(): ServingMaterial;
  /**
   * CA certificates (PEM) this replica needs in the webhook configurations' caBundle; undefined when the
   * caBundle is managed by someone else (cert-manager's CA injector).
   */
  caCertificates(): readonly string[] | undefined;
  /** The identity this replica's CAs carry (subject OU), so a merged caBundle can tell whose is whose. */
  readonly identity: string | undefined;
  /** Called after serving() or caCertificates() changed. */
  onChange(listener: () => void): void;
  /** Rotates or reloads until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

export const DEFAULT_CERTIFICATE_VALIDITY_MS = 7 * 24 * 3600_000;
export const DEFAULT_ACTIVATION_DELAY_MS = 60_000;
/** Backdating tolerates an API server whose clock is a little behind ours. */
const BACKDATE_MS = 5 * 60_000;
/** setTimeout holds at most 2^31-1 ms; wake up at least daily and decide again. */
const MAX_SLEEP_MS = 24 * 3600_000;

export type RotationStep = { action: 'wait'; untilMs: number } | { action: 'prepare' } | { action: 'activate' };

/**
 * Next step of the two-phase rotation. A certificate is replaced at two thirds of its lifetime, which
 * leaves a third of it (over two days at the default week) to retry if something goes wrong.
 */
export function nextRotationStep(
  active: { notBeforeMs: number; notAfterMs: number },
  pendingSinceMs: number | undefined,
  nowMs: number,
  activationDelayMs: number,
): RotationStep {
  if (pendingSinceMs !== undefined) {
    const activateAtMs = pendingSinceMs + activationDelayMs;
    return nowMs >= activateAtMs ? { action: 'activate' } : { action: 'wait', untilMs: activateAtMs };
  }
  const rotateAtMs = active.notBeforeMs + ((active.notAfterMs - active.notBeforeMs) * 2) / 3;
  return nowMs >= rotateAtMs ? { action: 'prepare' } : { action: 'wait', untilMs: rotateAtMs };
}

export interface SelfSignedOptions {
  /** DNS names and IPs the serving certificate covers: the Service's DNS names, or 127.0.0.1 locally. */
  hosts: readonly string[];
  /** This replica (its pod name); goes into the CA's subject OU. */
  identity: string;
  /** What the certificate serves, for its names and log lines; default 'webhook' (the metrics server: 'metrics'). */
  purpose?: string;
  clock: Clock;
  log: Logger;
  validityMs?: number;
  activationDelayMs?: number;
}

interface Pair {
  ca: IssuedCertificate;
  leaf: IssuedCertificate;
}

export function createSelfSignedCertificateSource(options: SelfSignedOptions): CertificateSource {
  const validityMs = options.validityMs ?? DEFAULT_CERTIFICATE_VALIDITY_MS;
  const activationDelayMs = options.activationDelayMs ?? DEFAULT_ACTIVATION_DELAY_MS;
  const purpose = options.purpose ?? 'webhook';
  const listeners: Array<() => void> = [];
  const issue = (): Pair => {
    const nowMs = options.clock.now();
    const notBefore = new Date(nowMs - BACKDATE_MS);
    const notAfter = new Date(nowMs + validityMs);
    const ca = issueCertificateAuthority({
      commonName: `sgp-operator ${purpose} CA`,
      organizationalUnit: options.identity,
      notBefore,
      // The CA outlives its serving certificate by the activation delay, so it is never the first to expire.
      notAfter: new Date(notAfter.getTime() + activationDelayMs),
    });
    const leaf = issueServingCertificate({
      issuer: ca,
      commonName: `sgp-operator-${purpose}`,
      hosts: options.hosts,
      notBefore,
      notAfter,
    });
    return { ca, leaf };
  };
  let active = issue();
  let pending: { pair: Pair; sinceMs: number } | undefined;
  let retired: IssuedCertificate[] = [];
  const notify = (): void => listeners.forEach((listener) => listener());

  return {
    identity: options.identity,
    serving: () => ({
      certPem: active.leaf.certPem,
      keyPem: active.leaf.keyPem,
      notAfterMs: active.leaf.notAfter.getTime(),
    }),
    caCertificates: () => {
      const nowMs = options.clock.now();
      retired = retired.filter((ca) => ca.notAfter.getTime() > nowMs);
      return [active.ca, ...(pending ? [pending.pair.ca] : []), ...retired].map((ca) => ca.certPem);
    },
    onChange: (listener) => void listeners.push(listener),
    async run(signal) {
      while (!signal.aborted) {
        const nowMs = options.clock.now();
        const step = nextRotationStep(
          { notBeforeMs: active.leaf.notBefore.getTime(), notAfterMs: active.leaf.notAfter.getTime() },
          pending?.sinceMs,
          nowMs,
          activationDelayMs,
        );
        switch (step.action) {
          case 'wait':
            await sleep(Math.min(step.untilMs - nowMs, MAX_SLEEP_MS), signal);
            break;
          case 'prepare':
            pending = { pair: issue(), sinceMs: nowMs };
            options.log.info(`issued next ${purpose} certificate`, {
              notAfter: pending.pair.leaf.notAfter.toISOString(),
            });
            notify();
            break;
          case 'activate':
            if (pending) {
              retired.push(active.ca);
              active = pending.pair;
              pending = undefined;
              options.log.info(`rotated ${purpose} serving certificate`, {
                notAfter: active.leaf.notAfter.toISOString(),
              });
              notify();
            }
            break;
          default: {
            const unreachable: never = step;
            throw new Error(`unknown rotation step ${JSON.stringify(unreachable)}`);
          }
        }
      }
    },
  };
}

export interface DirectoryOptions {
  /** Holds tls.crt and tls.key (a cert-manager Secret mount); ca.crt is optional. */
  dir: string;
  /** What the certificate serves and the flag that named the folder, for the error message; default the webhook's. */
  purpose?: string;
  flag?: string;
  log: Logger;
  pollIntervalMs?: number;
}

/** Reads the mounted certificate once (so a bad mount fails start-up) and then polls for changes. */
export async function createDirectoryCertificateSource(options: DirectoryOptions): Promise<CertificateSource> {
  const load = async (): Promise<{ material: ServingMaterial; caPem: string | undefined }> => {
    const [certPem, keyPem, caPem] = await Promise.all([
      readFile(join(options.dir, 'tls.crt'), 'utf8'),
      readFile(join(options.dir, 'tls.key'), 'utf8'),
      readFile(join(options.dir, 'ca.crt'), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      }),
    ]);
    const notAfterMs = new Date(new X509Certificate(certPem).validTo).getTime();
    return { material: { certPem, keyPem, notAfterMs }, caPem: caPem?.trim() ? caPem : undefined };
  };
  let current = await load().catch((error: unknown) => {
    throw new Error(
      `cannot read the ${options.purpose ?? 'webhook'} serving certificate from ${options.dir} ` +
        `(--${options.flag ?? 'webhook-cert-dir'}): expected tls.crt ` +
        `and tls.key there, e.g. a cert-manager Certificate's Secret mounted as a volume`,
      { cause: error },
    );
  });
  const listeners: Array<() => void> = [];
  return {
    identity: undefined,
    serving: () => current.material,
    caCertificates: () => (current.caPem ? [current.caPem] : undefined),
    onChange: (listener) => void listeners.push(listener),
    async run(signal) {
      while (!signal.aborted) {
        await sleep(options.pollIntervalMs ?? 60_000, signal);
        if (signal.aborted) return;
        try {
          const next = await load();
          if (next.material.certPem === current.material.certPem && next.caPem === current.caPem) continue;
          current = next;
          options.log.info(`reloaded ${options.purpose ?? 'webhook'} serving certificate`, { dir: options.dir });
          listeners.forEach((listener) => listener());
        } catch (error) {
          // A Secret volume update swaps a symlink; a read in the middle can fail. Keep serving what we
          // have and try again on the next poll.
          options.log.warn('cannot reload webhook serving certificate', { dir: options.dir, error });
        }
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
