/**
 * How every benchmark reports: one JSON object on a single stdout line (bench/run.ts collects it), then a
 * short human table. Progress goes to stderr so stdout stays machine-readable.
 */
export function emit(result: object, table: Record<string, string | number | null>): void {
  process.stdout.write(JSON.stringify(result) + '\n');
  const width = Math.max(...Object.keys(table).map((key) => key.length));
  process.stdout.write(
    Object.entries(table)
      .map(([key, value]) => `  ${key.padEnd(width)}  ${value ?? '—'}`)
      .join('\n') + '\n',
  );
}

const started = performance.now();
export function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

/** The benchmark's figures: a one-line JSON object, or a pretty-printed one from a `{` line to a `}` line. */
export function parseFigures(stdout: string): unknown {
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as unknown;
    } catch {
      const end = lines.findIndex((candidate, j) => j > i && candidate === '}');
      if (end > i) {
        try {
          return JSON.parse(lines.slice(i, end + 1).join('\n')) as unknown;
        } catch {
          // not this block; keep looking
        }
      }
    }
  }
  return undefined;
}
