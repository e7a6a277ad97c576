import type { Rng } from './state/rng.ts';
import type { LatencyConfig, LatencyRange } from './types.ts';

/** Realistic defaults when latency is `true`: reads are faster than writes. */
const DEFAULT_DESCRIBE: LatencyRange = { minMs: 20, maxMs: 80 };
const DEFAULT_MUTATION: LatencyRange = { minMs: 50, maxMs: 200 };

/** Milliseconds to hold this call's response (0 = answer at once). */
export function latencyFor(config: LatencyConfig, action: string, rng: Rng): number {
  if (config === false) return 0;
  let range: LatencyRange | undefined;
  if (config === true) range = action.startsWith('Describe') ? DEFAULT_DESCRIBE : DEFAULT_MUTATION;
  else range = config[action] ?? config['*'];
  if (!range) return 0;
  return range.minMs + Math.floor(rng.fraction() * (range.maxMs - range.minMs + 1));
}
