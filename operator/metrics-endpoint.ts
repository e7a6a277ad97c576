/**
 * The /metrics server as the options ask for it (part of the composition root, with main.ts and
 * operator.ts): with `--metrics-secure` (the default), HTTPS with a certificate from `--metrics-cert-dir` or
 * self-signed and rotated in memory, and every caller checked by the API server (TokenReview and
 * SubjectAccessReview, operator/framework/delegated-auth.ts); otherwise plain HTTP. docs/observability.md.
 */
import { hostname } from 'node:os';
import { createDelegatedAuth, systemClock, type FrameworkManager, type KubeClient } from './framework/index.ts';
import { metricsRoute, startHttpEndpoint, type HttpEndpoint } from './observability/http-server.ts';
import type { Logger } from './observability/logger.ts';
import { registry } from './observability/metrics.ts';
import type { Options } from './options.ts';
import { createDirectoryCertificateSource, createSelfSignedCertificateSource } from './webhook/index.ts';

export type MetricsEndpointOptions = Pick<Options, 'metricsBindAddress' | 'metricsSecure' | 'metricsCertDir'>;

/** Starts the server (undefined when `--metrics-bind-address=0`); certificate rotation runs on `manager`. */
export async function startMetricsEndpoint(
  options: MetricsEndpointOptions,
  deps: { client: KubeClient; manager: FrameworkManager; log: Logger },
): Promise<HttpEndpoint | undefined> {
  if (!options.metricsBindAddress) return undefined;
  if (!options.metricsSecure) {
    return startHttpEndpoint('metrics', options.metricsBindAddress, [metricsRoute(registry, deps.log)], deps.log);
  }
  const certificates = options.metricsCertDir
    ? await createDirectoryCertificateSource({
        dir: options.metricsCertDir,
        purpose: 'metrics',
        flag: 'metrics-cert-dir',
        log: deps.log,
      })
    : createSelfSignedCertificateSource({
        hosts: ['localhost', '127.0.0.1'],
        identity: hostname(),
        purpose: 'metrics',
        clock: systemClock,
        log: deps.log,
      });
  // Rotation (self-signed) or reloading (mounted files) on every replica, for as long as the manager runs.
  deps.manager.add({
    name: 'metrics-certificate',
    needLeaderElection: false,
    start: (signal) => certificates.run(signal),
  });
  const access = createDelegatedAuth({ client: deps.client, clock: systemClock });
  return startHttpEndpoint(
    'metrics',
    options.metricsBindAddress,
    [metricsRoute(registry, deps.log, access)],
    deps.log,
    certificates,
  );
}
