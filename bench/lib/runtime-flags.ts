/**
 * The Node/V8 flags the operator ships with: read from the image's ENTRYPOINT (Dockerfile), the one place
 * they are set for production, so a benchmark measures what runs. `make run` passes the same flags
 * (test/unit/config/runtime-flags.test.ts keeps the two in step).
 */
import { readFileSync } from 'node:fs';

const DOCKERFILE = new URL('../../Dockerfile', import.meta.url);

/** The arguments between the node binary and the script in the Dockerfile's exec-form ENTRYPOINT. */
export function imageNodeFlags(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (line === undefined) throw new Error('the Dockerfile has no exec-form ENTRYPOINT');
  const [binary, ...rest] = JSON.parse(line) as string[];
  if (!binary?.endsWith('/node')) throw new Error(`the Dockerfile's ENTRYPOINT does not start node: ${line}`);
  return rest.slice(0, -1);
}
