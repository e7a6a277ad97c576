/**
 * hack/helm/build.sh decides from the cache alone whether helm must be built. These tests run the real script
 * against a cache holding a stand-in helm (a shell script that prints a version), with a PATH that holds either
 * no Go at all or a stand-in `go` that records its calls, so nothing is built.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';

const script = new URL('../../../hack/helm/build.sh', import.meta.url).pathname;
const helmVersion = /^HELM_VERSION=(\S+)$/m.exec(readFileSync(script, 'utf8'))?.[1] ?? '';

let root: string;
let bin: string;
let tools: string;

function executable(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A stand-in helm answering `helm version --template '{{.Version}}'` as the real one does. */
function fakeHelm(version: string): void {
  executable(join(bin, 'helm'), `[ "$1" = version ] && printf '%s' '${version}'`);
}

function run(withGo: boolean, ...args: string[]) {
  return spawnSync('bash', [script, ...args], {
    env: { PATH: withGo ? `${tools}:/usr/bin:/bin` : '/usr/bin:/bin', SGP_CACHE_DIR: join(root, 'cache'), HOME: root },
    encoding: 'utf8',
  });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sgp-helm-build-'));
  bin = join(root, 'cache', `helm-${helmVersion}`);
  tools = join(root, 'tools');
  mkdirSync(bin, { recursive: true });
  mkdirSync(tools);
  executable(join(tools, 'go'), `echo "$*" >> "${join(root, 'go-calls')}"; exit 1`);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('hack/helm/build.sh', () => {
  test('pins a Helm 4 release', () => {
    expect(helmVersion).toMatch(/^v4\.\d+\.\d+$/);
  });

  test('a cached helm of the pinned version is reused without Go, and with --cached', () => {
    fakeHelm(helmVersion);
    for (const args of [[], ['--cached']]) {
      const result = run(false, ...args);
      expect({ status: result.status, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
        status: 0,
        stdout: join(bin, 'helm'),
        stderr: '',
      });
    }
  });

  test('a cached helm is reused without calling Go when Go is present', () => {
    fakeHelm(helmVersion);
    expect(run(true).status).toBe(0);
    expect(existsSync(join(root, 'go-calls'))).toBe(false);
  });

  test('another version and no Go: one clear line and exit status 3', () => {
    fakeHelm('v3.18.4');
    const result = run(false);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^helm: no Go toolchain found to build helm v4\.\d+\.\d+: install Go/);
  });

  test('--cached never builds, even with Go: one line naming make helm-bin, exit status 3', () => {
    const result = run(true, '--cached');
    expect(result.status).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('make helm-bin');
    expect(existsSync(join(root, 'go-calls'))).toBe(false);
  });

  test('a missing helm with Go is built from the pinned module, and a failed build prints no path', () => {
    const result = run(true);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(readFileSync(join(root, 'go-calls'), 'utf8')).toContain('build -trimpath');
    expect(readFileSync(join(root, 'go-calls'), 'utf8')).toContain('helm.sh/helm/v4/cmd/helm');
    expect(existsSync(join(bin, 'helm'))).toBe(false);
  });
});
