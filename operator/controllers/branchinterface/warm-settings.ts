/**
 * The live warm-branch settings: --warm-branch-enis-per-node and --warm-branch-max-idle-seconds, overridden by
 * the keys `warm-branch-eni-limit` and `warm-branch-eni-max-idle` (seconds) of the ConfigMap
 * kube-system/amazon-vpc-cni, read from the informer cache on each call, as the cooldown is. A bad value is
 * ignored (the flag's value stays) and reported once per distinct value.
 */
import {
  VPC_CNI_CONFIGMAP_NAME,
  VPC_CNI_CONFIGMAP_NAMESPACE,
  WARM_BRANCH_ENI_LIMIT_KEY,
  WARM_BRANCH_ENI_MAX_IDLE_KEY,
} from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { KubeObject, Manager, Reader } from '../../framework/types.ts';
import type { Logger } from '../../observability/logger.ts';
import { optionDefinition } from '../../options/definitions.ts';
import { COOLDOWN_CONFIGMAP_KEY } from './cooldown-source.ts';
import type { WarmSettings } from './warm.ts';

/** The ConfigMap's values are bounded as the flags they override are (their option definitions). */
const LIMIT_OPTION = optionDefinition('warm-branch-enis-per-node');
const MAX_IDLE_OPTION = optionDefinition('warm-branch-max-idle-seconds');

export interface WarmSettingsSource {
  current(): WarmSettings;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export type SettingParse = { outcome: 'set'; value: number } | { outcome: 'keep'; warning?: string };

/** A whole number in [min, max] from a ConfigMap value; anything else keeps the current setting. */
export function parseWholeSetting(raw: string | undefined, key: string, min: number, max: number): SettingParse {
  if (raw === undefined) return { outcome: 'keep' };
  const trimmed = raw.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isInteger(value) || value < min || value > max) {
    return {
      outcome: 'keep',
      warning: `${key} ${JSON.stringify(raw)} is not a whole number in ${min}..${max}; keeping the flag's value`,
    };
  }
  return { outcome: 'set', value };
}

export class ConfigMapWarmSettings implements WarmSettingsSource {
  readonly #configMaps: Reader<ConfigMap>;
  readonly #defaults: WarmSettings;
  readonly #log: Logger | undefined;
  readonly #warned = new Set<string>();

  constructor(configMaps: Reader<ConfigMap>, defaults: WarmSettings, log?: Logger) {
    this.#configMaps = configMaps;
    this.#defaults = defaults;
    this.#log = log;
  }

  current(): WarmSettings {
    const data = this.#configMaps.get(COOLDOWN_CONFIGMAP_KEY)?.data;
    const limit = parseWholeSetting(
      data?.[WARM_BRANCH_ENI_LIMIT_KEY],
      WARM_BRANCH_ENI_LIMIT_KEY,
      LIMIT_OPTION.min ?? 0,
      LIMIT_OPTION.max ?? Number.MAX_SAFE_INTEGER,
    );
    const idle = parseWholeSetting(
      data?.[WARM_BRANCH_ENI_MAX_IDLE_KEY],
      WARM_BRANCH_ENI_MAX_IDLE_KEY,
      MAX_IDLE_OPTION.min ?? 0,
      MAX_IDLE_OPTION.max ?? Number.MAX_SAFE_INTEGER,
    );
    for (const parsed of [limit, idle]) {
      if (parsed.outcome === 'keep' && parsed.warning && !this.#warned.has(parsed.warning)) {
        this.#warned.add(parsed.warning);
        this.#log?.warn('warm branch setting ignored', { detail: parsed.warning });
      }
    }
    return {
      limitPerNode: limit.outcome === 'set' ? limit.value : this.#defaults.limitPerNode,
      maxIdleMs: idle.outcome === 'set' ? idle.value * 1000 : this.#defaults.maxIdleMs,
    };
  }
}

/** The source over the same ConfigMap informer the cooldown uses (one watch). */
export function createWarmSettingsSource(manager: Manager, defaults: WarmSettings, log: Logger): WarmSettingsSource {
  const configMaps = manager.informer<ConfigMap>({
    kind: Kinds.ConfigMap,
    namespace: VPC_CNI_CONFIGMAP_NAMESPACE,
    fieldSelector: `metadata.name=${VPC_CNI_CONFIGMAP_NAME}`,
  });
  return new ConfigMapWarmSettings(configMaps, defaults, log.child({ component: 'warm-branch-settings' }));
}
