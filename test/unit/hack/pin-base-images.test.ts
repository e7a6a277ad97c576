/**
 * The container's base images are pinned by digest, and hack/image/pin-base-images.sh re-pins them from their
 * tags. The script runs for real on a copy of the Dockerfile, with a stand-in `docker` that answers
 * `buildx imagetools inspect` with a digest derived from the reference, so no registry is asked.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';

const REPO = new URL('../../../', import.meta.url).pathname;
const script = join(REPO, 'hack/image/pin-base-images.sh');
const fromLines = (text: string) => text.split('\n').filter((line) => line.startsWith('FROM '));

let root: string;
let tools: string;
let dockerfile: string;

function run(withDocker: boolean) {
  return spawnSync('bash', [script, dockerfile], {
    env: { PATH: withDocker ? `${tools}:/usr/bin:/bin` : '/usr/bin:/bin', HOME: root },
    encoding: 'utf8',
  });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sgp-pin-'));
  tools = join(root, 'tools');
  mkdirSync(tools);
  dockerfile = join(root, 'Dockerfile');
  copyFileSync(join(REPO, 'Dockerfile'), dockerfile);
  // `docker buildx imagetools inspect --format … <ref>` → sha256 of the reference's text.
  writeFileSync(
    join(tools, 'docker'),
    '#!/usr/bin/env bash\n[ "$2" = version ] && exit 0\nprintf "sha256:%s\\n" "$(printf "%s" "${@: -1}" | sha256sum | cut -c1-64)"\n',
  );
  chmodSync(join(tools, 'docker'), 0o755);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('base images', () => {
  test('every FROM of the Dockerfile names a tag and a sha256 digest', () => {
    const lines = fromLines(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^FROM [^\s@]+:[^\s@]+@sha256:[0-9a-f]{64}( AS \S+)?$/);
  });

  test('pin-base-images re-resolves each tag, keeps stage names, and a second run changes nothing', () => {
    const first = run(true);
    expect(first.status).toBe(0);
    const pinned = readFileSync(dockerfile, 'utf8');
    const expected = fromLines(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).map((line) => {
      const [, ref, stage] = /^FROM ([^@\s]+)@\S+(.*)$/.exec(line) ?? [];
      const digest = spawnSync('bash', ['-c', `printf %s '${ref}' | sha256sum | cut -c1-64`], { encoding: 'utf8' });
      return `FROM ${ref}@sha256:${digest.stdout.trim()}${stage}`;
    });
    expect(fromLines(pinned)).toEqual(expected);
    expect(run(true).status).toBe(0);
    expect(readFileSync(dockerfile, 'utf8')).toBe(pinned);
  });

  test('without Docker or crane: one clear line, exit status 3, the Dockerfile untouched', () => {
    const before = readFileSync(dockerfile, 'utf8');
    const result = run(false);
    expect(result.status).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no registry client found: install Docker .* or crane/);
    expect(readFileSync(dockerfile, 'utf8')).toBe(before);
  });
});
