import { defaultStatusFor } from './protocol/errors.ts';
import type { Rng } from './state/rng.ts';
import type { FaultRule } from './types.ts';

/** Fault injection: the next N calls of an action (or a share of them) answer a chosen code and status. */
export interface ArmedFault {
  code: string;
  status: number;
  message: string;
  phase: 'before' | 'after';
}

interface LiveRule {
  rule: FaultRule;
  remaining: number;
}

export class FaultInjector {
  #rules: LiveRule[] = [];

  set(rules: FaultRule[]): void {
    this.#rules = rules.map((rule) => ({
      rule,
      remaining: rule.probability === undefined ? (rule.count ?? 1) : Number.POSITIVE_INFINITY,
    }));
  }

  /** The fault this call must suffer, if any (consumes one use of a counted rule). */
  draw(action: string, rng: Rng): ArmedFault | undefined {
    for (const live of this.#rules) {
      const { rule } = live;
      if (live.remaining <= 0 || (rule.action !== '*' && rule.action !== action)) continue;
      if (rule.probability !== undefined && rng.fraction() >= rule.probability) continue;
      live.remaining -= 1;
      return {
        code: rule.code,
        status: rule.status ?? defaultStatusFor(rule.code),
        message: rule.message ?? `Injected fault ${rule.code}.`,
        phase: rule.phase ?? 'before',
      };
    }
    return undefined;
  }
}
