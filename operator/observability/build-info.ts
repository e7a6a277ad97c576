/**
 * What build this process is: the package version, the source commit and the Node.js runtime. Printed by
 * `--version` and exported as `sgp_build_info` so dashboards can tell replicas and rollouts apart.
 *
 * The commit comes from SGP_BUILD_COMMIT, set by the image build (`--build-arg SGP_BUILD_COMMIT=…`) and by
 * `make run`; a process started another way reports `unknown` rather than guessing.
 */
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  version: string;
  commit: string;
  node: string;
}

/** The nearest package.json above this module: ../../package.json from source, the same from dist/. */
function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'sgp-operator' && manifest.version) return manifest.version;
    } catch {
      // not at this level; try the next
    }
  }
  return 'unknown';
}

export function buildInfo(env: Readonly<Record<string, string | undefined>> = process.env): BuildInfo {
  return { version: packageVersion(), commit: env.SGP_BUILD_COMMIT || 'unknown', node: process.version };
}

export function versionText(info: BuildInfo): string {
  return `sgp-operator ${info.version} (commit ${info.commit}, Node.js ${info.node})\n`;
}
