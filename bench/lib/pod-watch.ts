/**
 * When each pod got its pod-eni annotation, seen through a watch (not polling), against when the benchmark
 * created it (the benchmark's own clock: creationTimestamp has one-second resolution).
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';

import { POD_ENI_ANNOTATION } from '../../operator/api/constants.ts';

interface WatchedPod {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

export interface AnnotationWatch {
  /** Record that the benchmark is about to create (or has created) this pod. */
  created(name: string, atMs?: number): void;
  /** Pods annotated so far. */
  annotatedCount(): number;
  /** Resolves once every name in `names` is annotated (or rejects after `timeoutMs`). */
  waitAll(names: readonly string[], timeoutMs: number): Promise<void>;
  /** Creation → annotation latencies (ms) of `names` (annotated ones only). */
  latencies(names: readonly string[]): number[];
  /** performance.now() when `name` was first seen annotated. */
  annotatedAt(name: string): number | undefined;
  /** performance.now() when the benchmark recorded `name` as created. */
  createdAt(name: string): number | undefined;
  stop(): void;
}

export async function watchAnnotations(kubeConfig: KubeConfig, namespace: string): Promise<AnnotationWatch> {
  const createdAt = new Map<string, number>();
  const annotatedAt = new Map<string, number>();
  const waiters = new Set<() => void>();
  const onEvent = (_type: string, pod: WatchedPod) => {
    const name = pod.metadata?.name;
    if (!name || annotatedAt.has(name) || !pod.metadata?.annotations?.[POD_ENI_ANNOTATION]) return;
    annotatedAt.set(name, performance.now());
    for (const wake of waiters) wake();
  };
  let stopped = false;
  let controller: AbortController | undefined;
  const start = async (): Promise<void> => {
    controller = await new Watch(kubeConfig).watch(`/api/v1/namespaces/${namespace}/pods`, {}, onEvent, () => {
      // The apiserver ends watches after a while; resume (events missed meanwhile are re-listed as ADDED).
      if (!stopped) void start();
    });
  };
  await start();
  return {
    created: (name, atMs = performance.now()) => void createdAt.set(name, atMs),
    annotatedCount: () => annotatedAt.size,
    annotatedAt: (name) => annotatedAt.get(name),
    createdAt: (name) => createdAt.get(name),
    async waitAll(names, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!names.every((name) => annotatedAt.has(name))) {
        if (performance.now() > deadline) {
          const missing = names.filter((name) => !annotatedAt.has(name));
          throw new Error(`${missing.length} of ${names.length} pods not annotated after ${timeoutMs} ms`);
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, 1_000);
          waiters.add(wake);
        });
      }
    },
    latencies: (names) =>
      names.flatMap((name) => {
        const from = createdAt.get(name);
        const to = annotatedAt.get(name);
        return from === undefined || to === undefined ? [] : [to - from];
      }),
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
