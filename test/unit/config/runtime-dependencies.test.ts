/**
 * What ships (the operator in the image, `kubectl sgp` through `npm install -g .`) gets only package.json's
 * `dependencies`: the image prunes devDependencies, and a global install never has them. So shipped code may
 * import a package only if it is a dependency; @kubernetes/client-node in particular is a devDependency (tests
 * and benchmarks), kept out of the operator for its start-up memory (README "Memory and start-up").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SHIPPED = ['operator', 'kubectl-sgp'];
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

test('shipped code imports only node built-ins and package.json dependencies', () => {
  const imports = SHIPPED.flatMap((dir) => sourceFiles(join(ROOT, dir))).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)].map((match) => ({
      file: relative(ROOT, file),
      specifier: match[1] ?? '',
    })),
  );
  expect(imports.length).toBeGreaterThan(50);
  const outside = imports.filter(({ specifier }) => {
    if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return false;
    return !(packageOf(specifier) in packageJson.dependencies);
  });
  expect(outside).toEqual([]);
});
