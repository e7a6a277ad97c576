/**
 * The caBundle of a webhook configuration when every replica brings its own CA (see sources.ts).
 * Replicas merge rather than overwrite: each keeps the others' CAs and replaces only its own, so two
 * replicas patching in turn converge instead of flapping. The result is sorted, so the same set always
 * encodes to the same bytes and an unchanged bundle is never re-written.
 *
 * A CA leaves the bundle when it expires, or when the replica named in its subject OU is known to be gone
 * (`isLiveIdentity`, e.g. "is there an operator pod of that name"). A CA younger than the grace period is
 * kept regardless, because a replica that just started may not be in the other replicas' caches yet.
 */
import { X509Certificate } from 'node:crypto';

export const NEW_CA_GRACE_MS = 15 * 60_000;

export interface CaBundleInputs {
  /** Current caBundle, base64 of concatenated PEMs as the API stores it ('' or undefined when unset). */
  existing: string | undefined;
  /** This replica's CA certificates (PEM). */
  own: readonly string[];
  ownIdentity: string | undefined;
  nowMs: number;
  isLiveIdentity?: (identity: string) => boolean;
}

/** The merged caBundle, base64-encoded as `clientConfig.caBundle` expects. */
export function mergeCaBundle(inputs: CaBundleInputs): string {
  const ownSet = new Set(inputs.own.map(normalisePem));
  const kept = new Set(ownSet);
  for (const pem of splitPems(Buffer.from(inputs.existing ?? '', 'base64').toString('utf8'))) {
    if (ownSet.has(pem)) continue;
    const certificate = parse(pem);
    if (!certificate) continue; // Not a certificate: nothing can verify against it, so drop it.
    if (new Date(certificate.validTo).getTime() <= inputs.nowMs) continue;
    const identity = organisationalUnit(certificate.subject);
    // Our own earlier CAs that we no longer list (expired or superseded) go; others' CAs stay.
    if (identity !== undefined && identity === inputs.ownIdentity) continue;
    const isYoung = inputs.nowMs - new Date(certificate.validFrom).getTime() < NEW_CA_GRACE_MS;
    if (identity !== undefined && !isYoung && inputs.isLiveIdentity && !inputs.isLiveIdentity(identity)) continue;
    kept.add(pem);
  }
  return Buffer.from([...kept].sort().join('')).toString('base64');
}

/** PEM blocks of `text`, each normalised to end in exactly one newline. */
export function splitPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((match) =>
    normalisePem(match[0]),
  );
}

function normalisePem(pem: string): string {
  return pem.trim() + '\n';
}

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined; // A malformed entry is treated as absent; the merge drops it.
  }
}

function organisationalUnit(subject: string): string | undefined {
  return subject
    .split('\n')
    .find((line) => line.startsWith('OU='))
    ?.slice(3);
}
