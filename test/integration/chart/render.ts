/**
 * Rendering the install manifests for the chart tests: `helm template` of charts/sgp-operator and
 * `kubectl kustomize` of config/default (optionally with its commented-out cert-manager and Prometheus parts
 * switched on, in a copy). Helm comes from the tool cache (hack/helm/build.sh --cached); when it is not
 * there, `helm` is undefined and the chart tests skip with the script's one line.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { parseAllDocuments } from 'yaml';

import type { KubeObject } from '../../../operator/framework/types.ts';

const run = promisify(execFile);
export const REPO = new URL('../../../', import.meta.url).pathname;
export const CHART = join(REPO, 'charts/sgp-operator');
const BUFFER = 64 << 20;

/** The helm binary, or undefined with the reason printed once. */
export const helm: string | undefined = (() => {
  const found = spawnSync(join(REPO, 'hack/helm/build.sh'), ['--cached'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  process.stderr.write(`chart tests skipped: ${found.stderr.trim() || `hack/helm/build.sh exited ${found.status}`}\n`);
  return undefined;
})();

export type Manifest = KubeObject & Record<string, unknown>;

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Manifest | null)
    .filter((object): object is Manifest => object !== null && typeof object === 'object');
}

export interface HelmRender {
  release?: string;
  namespace?: string;
  /** --set-json pairs: path → any JSON value. */
  values?: Record<string, unknown>;
}

/** `helm template` output as text; CRDs from crds/ included (as `helm install` applies them first). */
export async function helmTemplateText({
  release = 'sgp-operator',
  namespace = 'sgp-system',
  values = {},
}: HelmRender): Promise<string> {
  if (!helm) throw new Error('helm is not available');
  const sets = Object.entries(values).flatMap(([path, value]) => ['--set-json', `${path}=${JSON.stringify(value)}`]);
  const { stdout } = await run(helm, ['template', release, CHART, '-n', namespace, '--include-crds', ...sets], {
    maxBuffer: BUFFER,
  });
  return stdout;
}

export async function helmTemplate(options: HelmRender): Promise<Manifest[]> {
  return parseManifests(await helmTemplateText(options));
}

/** The parts of config/default/kustomization.yaml that are commented out until a user switches them on. */
export type KustomizeOption = 'cert-manager' | 'prometheus' | 'grafana';

const SWITCHES: Record<KustomizeOption, Array<[string, string]>> = {
  'cert-manager': [
    ['# components:\n#   - ../certmanager\n', 'components:\n  - ../certmanager\n'],
    ['  # - path: certmanager_replacements.yaml\n', '  - path: certmanager_replacements.yaml\n'],
  ],
  prometheus: [['  # - ../prometheus\n', '  - ../prometheus\n']],
  grafana: [['  # - ../grafana\n', '  - ../grafana\n']],
};

/**
 * `kubectl kustomize config/default`, with the given optional parts switched on in a copy; `runbookUrl` is
 * written to that copy's config/prometheus/runbooks.env as a user sets it.
 */
export async function kustomizeDefault(
  options: readonly KustomizeOption[] = [],
  { runbookUrl }: { runbookUrl?: string } = {},
): Promise<Manifest[]> {
  const root = await mkdtemp(join(tmpdir(), 'sgp-kustomize-'));
  try {
    await cp(join(REPO, 'config'), join(root, 'config'), { recursive: true });
    await cp(join(REPO, 'crds'), join(root, 'crds'), { recursive: true });
    const path = join(root, 'config/default/kustomization.yaml');
    let text = await readFile(path, 'utf8');
    for (const [from, to] of options.flatMap((option) => SWITCHES[option])) {
      if (!text.includes(from)) throw new Error(`config/default/kustomization.yaml no longer contains ${from}`);
      text = text.replace(from, to);
    }
    await writeFile(path, text);
    if (runbookUrl !== undefined) {
      const runbooks = join(root, 'config/prometheus/runbooks.env');
      const env = await readFile(runbooks, 'utf8');
      if (!/^RUNBOOK_URL=/m.test(env)) throw new Error('config/prometheus/runbooks.env no longer sets RUNBOOK_URL');
      await writeFile(runbooks, env.replace(/^RUNBOOK_URL=.*$/m, `RUNBOOK_URL=${runbookUrl}`));
    }
    const { stdout } = await run('kubectl', ['kustomize', join(root, 'config/default')], { maxBuffer: BUFFER });
    return parseManifests(stdout);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** `kubectl apply --dry-run=server --validate=strict` of `text`: the `kind/name` lines it printed, sorted. */
export async function dryRunApply(text: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sgp-dry-run-'));
  try {
    const file = join(dir, 'manifests.yaml');
    await writeFile(file, text);
    const { stdout } = await run('kubectl', ['apply', '--dry-run=server', '--validate=strict', '-f', file], {
      maxBuffer: BUFFER,
      env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG },
    });
    return stdout
      .trim()
      .split('\n')
      .filter((line) => line.endsWith('(server dry run)'))
      .map((line) => line.replace(/ (created|configured|unchanged) \(server dry run\)$/, ''))
      .sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
