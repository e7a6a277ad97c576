import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { buildInfo, versionText } from '../../../operator/observability/build-info.ts';
import { registry } from '../../../operator/observability/metrics.ts';

const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('build info', () => {
  test('the version is package.json’s and the commit comes from SGP_BUILD_COMMIT', () => {
    const info = buildInfo({ SGP_BUILD_COMMIT: '9f48d3e' });
    expect(info).toEqual({ version: manifest.version, commit: '9f48d3e', node: process.version });
    expect(versionText(info)).toBe(`sgp-operator ${manifest.version} (commit 9f48d3e, Node.js ${process.version})\n`);
  });

  test('without SGP_BUILD_COMMIT the commit is reported as unknown', () => {
    expect(buildInfo({}).commit).toBe('unknown');
  });

  test('/metrics exports sgp_build_info and the standard process and runtime names', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(`^sgp_build_info\\{version="${manifest.version}",commit="[^"]+",node="v[0-9.]+"\\} 1$`, 'm'),
    );
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(text).not.toMatch(/^sgp_process_/m);
  });
});
