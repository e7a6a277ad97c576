/**
 * The sgp-operator binary: read options, switch tracing on if asked, build the operator, serve /metrics
 * and the probes, run until told to stop.
 *
 * Exit status: 0 after SIGTERM/SIGINT (Lease released, queues drained); 1 on a fatal error or when
 * leadership is lost (the Deployment restarts the pod, which comes back as a follower with clean state);
 * 2 when the configuration is invalid (every problem is printed, each naming its flag).
 */
import { OptionsError, parseOptions } from './options.ts';
import { helpText } from './option-help.ts';
import { buildInfo, versionText } from './observability/build-info.ts';
import { createOperator } from './operator.ts';
import { healthChecks, LeaderElectionLostError } from './framework/index.ts';
import { createLogger } from './observability/logger.ts';
import { probeRoute, startHttpEndpoint, type HttpEndpoint } from './observability/http-server.ts';
import { startMetricsEndpoint } from './metrics-endpoint.ts';
import { startTracing, tracingDecision } from './observability/tracing.ts';

/** Past this, a stop that hangs (a stuck EC2 call, an unreachable API server) ends with exit 1 anyway. */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`sgp-operator: ${error.message}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(versionText(buildInfo()));
    return 0;
  }
  const options = parsed.options;
  const log = createLogger({ level: options.logLevel });

  // The SDK reads the OTEL_* variables itself; only whether to load it at all is decided here.
  const tracing = await startTracing(tracingDecision(process.env), log);
  const endpoints: HttpEndpoint[] = [];
  const stopping = new AbortController();
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      log.warn('second signal; exiting now', { signal });
      process.exit(1);
    }
    log.info('received signal; shutting down', { signal });
    stopping.abort(new Error(`received ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const operator = await createOperator(options, { log });
    const checks = healthChecks(operator.manager);
    const metrics = await startMetricsEndpoint(options, {
      client: operator.deps.client,
      manager: operator.manager,
      log,
    });
    if (metrics) endpoints.push(metrics);
    if (options.healthProbeBindAddress) {
      endpoints.push(await startHttpEndpoint('health', options.healthProbeBindAddress, [probeRoute(checks)], log));
    }
    const running = operator.start(stopping.signal);
    stopping.signal.addEventListener(
      'abort',
      () => {
        // The stop must finish before the kubelet's SIGKILL (terminationGracePeriodSeconds, 30 s by default).
        setTimeout(() => {
          log.error('shutdown took too long; exiting', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
          process.exit(1);
        }, SHUTDOWN_TIMEOUT_MS).unref();
        void operator.stop();
      },
      { once: true },
    );
    await running;
    await operator.stop();
    // The manager also ends when one of its runnables failed (already logged): that is not a clean stop.
    if (!operator.manager.isHealthy()) exitCode = 1;
    log.info('stopped', { exitCode });
  } catch (error) {
    exitCode = 1;
    if (error instanceof LeaderElectionLostError)
      log.error('lost leadership; exiting so a fresh process takes over', { error });
    else log.error('operator failed', { error });
  } finally {
    await Promise.allSettled(endpoints.map((endpoint) => endpoint.close()));
    await tracing.shutdown();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`sgp-operator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
