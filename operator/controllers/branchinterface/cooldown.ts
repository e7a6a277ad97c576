/**
 * The branch ENI cooldown as pure functions. A released pod's IP must not be handed to a new pod at once:
 * kube-proxy rules and peers' ARP caches still point at it (docs/lifecycle.md#the-cooldown; EKS raised the default from
 * 30 s to 60 s for ARP, issue #306). So a branch ENI stays in place for the cooldown after its pod goes,
 * counted against the node's capacity, and is only then disassociated and deleted.
 */

import { optionDefinition } from '../../option-definitions.ts';

/**
 * EKS's floor, in milliseconds: the minimum of --branch-cooldown-seconds, which also bounds the ConfigMap's
 * value. (The default, 60 s as on EKS, is that option's default.)
 */
export const MINIMUM_COOLDOWN_MS = (optionDefinition('branch-cooldown-seconds').min ?? 0) * 1000;

export interface CooldownVerdict {
  releasable: boolean;
  /** Milliseconds until the branch may be released (0 when releasable). */
  remainingMs: number;
}

/** Whether a branch whose release was requested at `releaseRequestedAt` may be released at `nowMs`. */
export function releasable(
  branch: { status?: { releaseRequestedAt?: string } },
  nowMs: number,
  cooldownMs: number,
): CooldownVerdict {
  const requestedAt = branch.status?.releaseRequestedAt;
  if (!requestedAt) return { releasable: false, remainingMs: cooldownMs };
  const requestedMs = Date.parse(requestedAt);
  // An unparseable timestamp cannot be waited on; release rather than hold the ENI forever.
  if (Number.isNaN(requestedMs)) return { releasable: true, remainingMs: 0 };
  const remainingMs = requestedMs + cooldownMs - nowMs;
  return remainingMs <= 0 ? { releasable: true, remainingMs: 0 } : { releasable: false, remainingMs };
}

export type CooldownSetting =
  | { outcome: 'set'; cooldownMs: number; warning?: string }
  /** No usable value: keep the current setting (EKS keeps it when the key is removed). */
  | { outcome: 'keep'; warning?: string };

/**
 * Reads the `branch-eni-cooldown` ConfigMap value (whole seconds, as EKS reads it). Values below the
 * minimum are raised to it with a warning; anything that is not a non-negative number is ignored with a
 * warning naming the fix.
 */
export function parseCooldownSetting(raw: string | undefined, minimumMs: number): CooldownSetting {
  if (raw === undefined) return { outcome: 'keep' };
  const trimmed = raw.trim();
  const seconds = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(seconds) || seconds < 0) {
    return {
      outcome: 'keep',
      warning: `branch-eni-cooldown ${JSON.stringify(raw)} is not a number of seconds; keeping the current cooldown`,
    };
  }
  const requestedMs = Math.round(seconds * 1000);
  if (requestedMs < minimumMs) {
    return {
      outcome: 'set',
      cooldownMs: minimumMs,
      warning:
        `branch-eni-cooldown ${trimmed}s is below the minimum of ${minimumMs / 1000}s; ` +
        `using ${minimumMs / 1000}s (a shorter cooldown risks reusing an IP peers still cache)`,
    };
  }
  return { outcome: 'set', cooldownMs: requestedMs };
}

/** Go's time.Duration text for whole seconds ("1m30s"), as EKS writes it in BranchENICoolDownPeriodUpdated. */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
