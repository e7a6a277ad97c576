/**
 * The chart ships what the repository ships: the same version as package.json, CRDs byte-identical to crds/
 * (Helm installs its crds/ folder verbatim, so a drifted copy would install another schema), and the alerts and
 * dashboard byte-identical to config/prometheus and config/grafana (`make chart-files` copies all three).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

const REPO = new URL('../../../', import.meta.url).pathname;
const CHART = join(REPO, 'charts/sgp-operator');

describe('charts/sgp-operator', () => {
  test('version and appVersion follow package.json; values default the image tag to appVersion', () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { image: { tag: string } };
    expect({ version: chart.version, appVersion: chart.appVersion, tag: values.image.tag }).toEqual({
      version: pkg.version,
      appVersion: pkg.version,
      tag: '',
    });
  });

  test('crds/ holds exactly the CRDs of the repository’s crds/, byte for byte', () => {
    const kustomization = parse(readFileSync(join(REPO, 'crds/kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const shipped = readdirSync(join(CHART, 'crds')).sort();
    expect(shipped).toEqual([...kustomization.resources].sort());
    for (const file of shipped) {
      expect({ file, text: readFileSync(join(CHART, 'crds', file), 'utf8') }).toEqual({
        file,
        text: readFileSync(join(REPO, 'crds', file), 'utf8'),
      });
    }
  });

  test.each([
    ['files/prometheus-rules.yaml', 'config/prometheus/rules.yaml'],
    ['files/sgp-operator-dashboard.json', 'config/grafana/sgp-operator-dashboard.json'],
  ])('%s is %s, byte for byte (make chart-files)', (shipped, source) => {
    expect(readFileSync(join(CHART, shipped), 'utf8')).toBe(readFileSync(join(REPO, source), 'utf8'));
  });
});
