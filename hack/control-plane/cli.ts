/**
 * `node hack/control-plane/cli.ts start [--data-dir DIR] [--port N] [--etcd-port N]`
 *
 * Starts etcd + kube-apiserver, installs the CRDs from crds/, prints the kubeconfig path (stdout, one line,
 * so scripts can capture it) and runs until Ctrl-C or SIGTERM, then stops both processes cleanly.
 */
import { parseArgs } from 'node:util';

import { installCrds } from './crds.ts';
import { ControlPlaneError, startControlPlane } from './control-plane.ts';

function usage(): never {
  process.stderr.write('usage: cli.ts start [--data-dir DIR] [--port N] [--etcd-port N] [--no-crds]\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'etcd-port': { type: 'string' },
      'no-crds': { type: 'boolean', default: false },
    },
  });
  if (positionals[0] !== 'start') usage();
  const port = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      process.stderr.write(`${flag} must be a port number (1-65535), got ${v}\n`);
      process.exit(2);
    }
    return n;
  };
  const startedAt = performance.now();
  const plane = await startControlPlane({
    dataDir: values['data-dir'],
    apiServerPort: port(values.port, '--port'),
    etcdPort: port(values['etcd-port'], '--etcd-port'),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`control-plane: ${signal}, stopping\n`);
    plane.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`control-plane: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (!values['no-crds']) await installCrds(plane.kubeconfigPath);
  process.stderr.write(
    `control-plane: ready in ${((performance.now() - startedAt) / 1000).toFixed(1)}s at ${plane.server}` +
      `${plane.dataDir ? ` (logs in ${plane.dataDir})` : ''}; Ctrl-C stops it\n` +
      `control-plane: export KUBECONFIG=${plane.kubeconfigPath}\n`,
  );
  process.stdout.write(`${plane.kubeconfigPath}\n`);
  // Keep running until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  const message = error instanceof ControlPlaneError ? error.message : error instanceof Error ? error.stack : error;
  process.stderr.write(`control-plane: ${String(message)}\n`);
  process.exit(1);
});
