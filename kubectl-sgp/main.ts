#!/usr/bin/env node
/**
 * The `kubectl-sgp` executable: kubectl runs it as `kubectl sgp …` when it is on the PATH (package.json
 * `bin`, `npm install -g`). Everything is in ./cli.ts; see docs/kubectl-sgp.md.
 */
import { runKubectlSgp } from './cli.ts';

process.exitCode = await runKubectlSgp(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
