/**
 * Every Prometheus metric of the operator, in one registry and one file. Names start with `sgp_`, use base
 * units (`_seconds`, `_bytes`), counters end in `_total`, and labels come from bounded sets (controller,
 * EC2 action, result, error class) — never pod, node or ENI names. Known series are initialised to zero
 * so alerts see them before the first failure. `promtool check metrics` runs over this output in the tests.
 *
 * Each floor owns one section below; add metrics to your section rather than defining them elsewhere.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sgp_process_' });

// ---- framework: work queues, reconciles, informers, leader election ----

// ---- aws: EC2 calls, throttling, queue wait ----

// ---- controllers: nodes, trunks, branches, policies, webhooks, garbage collection ----
