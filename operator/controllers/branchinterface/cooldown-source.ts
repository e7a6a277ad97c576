/**
 * The live branch ENI cooldown: ConfigMap kube-system/amazon-vpc-cni, key `branch-eni-cooldown` (seconds),
 * as EKS reads it (docs/compatibility.md#the-cooldown-configmap): default 60 s, minimum 30 s (lower values are raised, with a
 * warning), a removed key keeps the current value, and a change is announced with the Normal event
 * BranchENICoolDownPeriodUpdated on every managed node.
 *
 * `currentMs()` reads the watched ConfigMap from the informer cache on each call, so it is right from the
 * first reconcile after the caches sync, on every replica; a small controller only logs and announces
 * changes.
 */
import { BRANCH_ENI_COOLDOWN_KEY, VPC_CNI_CONFIGMAP_NAME, VPC_CNI_CONFIGMAP_NAMESPACE } from '../../api/constants.ts';
import { apiVersionOf, Kinds } from '../../api/kinds.ts';
import type { TrunkInterface } from '../../api/types.ts';
import { keyFor } from '../../framework/index.ts';
import type { EventRecorder, KubeObject, Manager, Reader } from '../../framework/types.ts';
import type { Logger } from '../../observability/logger.ts';
import { branchCooldownSeconds } from '../../observability/metrics.ts';
import { Reason } from '../../observability/reasons.ts';
import type { CooldownSource } from '../deps.ts';
import { formatDuration, MINIMUM_COOLDOWN_MS, parseCooldownSetting } from './cooldown.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export interface CooldownSourceOptions {
  manager: Manager;
  recorder: EventRecorder;
  log: Logger;
  /** Cooldown before the ConfigMap says otherwise (--branch-cooldown-seconds). */
  defaultMs: number;
  /**
   * Floor for configured values. Default 30 s (EKS). FOR TESTS ONLY: integration tests lower it so a
   * release does not take half a minute; production must keep the default (ARP caches, docs/lifecycle.md#the-cooldown).
   */
  minimumMs?: number;
}

export const COOLDOWN_CONFIGMAP_KEY = keyFor(VPC_CNI_CONFIGMAP_NAMESPACE, VPC_CNI_CONFIGMAP_NAME);

/** The cooldown as the cache says now; `lastGoodMs` carries a value across a removed or broken key. */
export class ConfigMapCooldown implements CooldownSource {
  readonly #configMaps: Reader<ConfigMap>;
  readonly #minimumMs: number;
  #lastGoodMs: number;

  constructor(configMaps: Reader<ConfigMap>, options: { defaultMs: number; minimumMs: number }) {
    this.#configMaps = configMaps;
    this.#minimumMs = options.minimumMs;
    this.#lastGoodMs = Math.max(options.defaultMs, options.minimumMs);
  }

  currentMs(): number {
    const setting = this.read();
    if (setting.outcome === 'set') this.#lastGoodMs = setting.cooldownMs;
    return this.#lastGoodMs;
  }

  read(): ReturnType<typeof parseCooldownSetting> {
    const raw = this.#configMaps.get(COOLDOWN_CONFIGMAP_KEY)?.data?.[BRANCH_ENI_COOLDOWN_KEY];
    return parseCooldownSetting(raw, this.#minimumMs);
  }
}

export function createCooldownSource(options: CooldownSourceOptions): CooldownSource {
  const { manager, recorder } = options;
  const log = options.log.child({ component: 'branch-eni-cooldown' });
  const configMaps = manager.informer<ConfigMap>({
    kind: Kinds.ConfigMap,
    namespace: VPC_CNI_CONFIGMAP_NAMESPACE,
    fieldSelector: `metadata.name=${VPC_CNI_CONFIGMAP_NAME}`,
  });
  const trunks = manager.informer<TrunkInterface>({ kind: Kinds.TrunkInterface });
  const source = new ConfigMapCooldown(configMaps, {
    defaultMs: options.defaultMs,
    minimumMs: options.minimumMs ?? MINIMUM_COOLDOWN_MS,
  });
  let announcedMs: number | undefined;
  const controller = manager.controller({
    name: 'branch-eni-cooldown',
    reconciler: {
      async reconcile() {
        const setting = source.read();
        const currentMs = source.currentMs();
        branchCooldownSeconds.set(currentMs / 1000);
        if (setting.warning) log.warn('branch eni cooldown setting adjusted', { detail: setting.warning });
        if (announcedMs === undefined) {
          // First look after start-up: EKS reads the value without announcing it.
          announcedMs = currentMs;
          log.info('branch eni cooldown', { cooldownMs: currentMs });
          return {};
        }
        if (announcedMs === currentMs) return {};
        announcedMs = currentMs;
        log.info('branch eni cooldown updated', { cooldownMs: currentMs });
        const message = `Branch ENI cool down period has been updated to ${formatDuration(currentMs)}`;
        for (const trunk of trunks.list()) {
          // uid = node name, as EKS does, so `kubectl describe node` lists the event.
          const node: KubeObject = {
            apiVersion: apiVersionOf(Kinds.Node),
            kind: 'Node',
            metadata: { name: trunk.spec.nodeName, uid: trunk.spec.nodeName },
          };
          recorder.event(node, 'Normal', Reason.BranchENICoolDownPeriodUpdated, message);
        }
        return {};
      },
    },
  });
  controller.watch(configMaps, () => [COOLDOWN_CONFIGMAP_KEY]);
  // Reconcile once even when the ConfigMap does not exist, so the gauge shows the default.
  controller.enqueue(COOLDOWN_CONFIGMAP_KEY);
  return source;
}
