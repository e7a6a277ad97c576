/**
 * hack/control-plane/build.sh decides from the cache alone whether kube-apiserver and etcd must be built.
 * These tests run the real script against a cache of stand-in binaries (shell scripts that print a version),
 * with a PATH that holds either no Go at all or a stand-in `go` that records its calls, so nothing is built.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';

const script = new URL('../../../hack/control-plane/build.sh', import.meta.url).pathname;
const source = readFileSync(script, 'utf8');
const k8sVersion = /^K8S_VERSION=(\S+)$/m.exec(source)?.[1] ?? '';
const etcdVersion = /^ETCD_VERSION=v(\S+)$/m.exec(source)?.[1] ?? '';

let root: string;
let bin: string;
let tools: string;

function executable(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A stand-in etcd printing its version and then enough lines that a reader quitting early breaks its pipe. */
function fakeEtcd(version: string): void {
  executable(
    join(bin, 'etcd'),
    `echo "etcd Version: ${version}"; echo "Git SHA: v${version}"; for i in $(seq 1 20000); do echo "Go Version: go1.26 $i"; done`,
  );
}

function fakeApiserver(version: string): void {
  executable(join(bin, 'kube-apiserver'), `echo "Kubernetes ${version}"`);
}

function run(withGo: boolean) {
  const path = withGo ? `${tools}:/usr/bin:/bin` : '/usr/bin:/bin';
  return spawnSync('bash', [script], {
    env: { PATH: path, SGP_CACHE_DIR: join(root, 'cache'), HOME: root },
    encoding: 'utf8',
  });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sgp-build-sh-'));
  bin = join(root, 'cache', `control-plane-${k8sVersion}-etcd-v${etcdVersion}`);
  tools = join(root, 'tools');
  mkdirSync(bin, { recursive: true });
  mkdirSync(tools);
  // A `go` that records each call and fails, so a build attempt is visible and never succeeds.
  executable(join(tools, 'go'), `echo "$*" >> "${join(root, 'go-calls')}"; exit 1`);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('hack/control-plane/build.sh', () => {
  test('the pinned versions are read from the script', () => {
    expect(k8sVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(etcdVersion).toMatch(/^3\.\d+\.\d+$/);
  });

  test('a complete cache is reused without Go, even when etcd prints more after its version line', () => {
    fakeApiserver(k8sVersion);
    fakeEtcd(etcdVersion);
    const result = run(false);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(bin);
  });

  test('a complete cache is reused without calling Go when Go is present', () => {
    fakeApiserver(k8sVersion);
    fakeEtcd(etcdVersion);
    const result = run(true);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(bin);
    expect(existsSync(join(root, 'go-calls'))).toBe(false);
  });

  test('a stale binary without Go is one clear line and exit status 3', () => {
    fakeApiserver(k8sVersion);
    fakeEtcd('3.0.0');
    const result = run(false);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no Go toolchain found: install Go .*KUBEBUILDER_ASSETS.*USE_EXISTING_CLUSTER/);
  });

  test('only the stale binary is rebuilt, and a failed build fails the script with no folder printed', () => {
    fakeApiserver(k8sVersion);
    fakeEtcd('3.0.0');
    const result = run(true);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    const calls = readFileSync(join(root, 'go-calls'), 'utf8');
    expect(calls).toContain('go.etcd.io/etcd/server/v3');
    expect(calls).not.toContain('k8s.io/kubernetes/cmd/kube-apiserver');
  });
});
