/**
 * `--help` text and the README's configuration table, both rendered from the option definitions so they
 * cannot drift from what the parser accepts (test/unit/options checks the README against this output).
 */
import { OPTION_DEFINITIONS, SECTION_NOTES, type OptionDefinition } from './definitions.ts';

const WRAP_COLUMNS = 100;

export function helpText(): string {
  const lines = [
    'sgp-operator — Security Groups for Pods on EC2 (drop-in for EKS’s VPC resource controller).',
    '',
    'Usage: node operator/main.ts --cluster-name=<name> --region=<region> [options]',
    '',
    'Every flag has an environment twin; a flag beats its variable, which beats the default.',
    'Flags take --name=value or --name value; booleans also take a bare --name.',
  ];
  let section = '';
  for (const definition of OPTION_DEFINITIONS) {
    if (definition.section !== section) {
      section = definition.section;
      lines.push('', `${section}:`);
      const note = SECTION_NOTES[section];
      if (note) lines.push(...wrap(note, '  '));
    }
    lines.push(`  --${definition.flag}=<${placeholder(definition)}>`);
    lines.push(...wrap(definition.help, '      '));
    lines.push(`      env: ${envNames(definition)}; ${defaultText(definition)}`);
  }
  lines.push(
    '',
    'Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 on a fatal error or lost leadership, 2 on invalid',
    'configuration.',
  );
  return lines.join('\n') + '\n';
}

/** The Markdown table of every option, as the README embeds it between its configuration markers. */
export function configurationTable(): string {
  const rows = OPTION_DEFINITIONS.map(
    (definition) =>
      `| \`--${definition.flag}\` | ${envNames(definition)
        .split(', ')
        .map((name) => `\`${name}\``)
        .join(', ')} | ${markdownDefault(definition)} | ${definition.help.replaceAll('|', '\\|')} |`,
  );
  return ['| Flag | Environment | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

function placeholder(definition: OptionDefinition): string {
  switch (definition.type) {
    case 'enum':
      return definition.values?.join('|') ?? 'value';
    case 'boolean':
      return 'true|false';
    case 'address':
      return 'host:port';
    case 'integer':
    case 'number':
    case 'string':
      return definition.type === 'string' ? 'text' : 'number';
    default: {
      const unreachable: never = definition.type;
      return unreachable;
    }
  }
}

function envNames(definition: OptionDefinition): string {
  return [definition.env, ...(definition.envAliases ?? [])].join(', ');
}

function defaultText(definition: OptionDefinition): string {
  if (definition.required) return 'required';
  return definition.default === undefined ? 'no default' : `default ${JSON.stringify(definition.default)}`;
}

function markdownDefault(definition: OptionDefinition): string {
  if (definition.required) return '**required**';
  return definition.default === undefined ? '—' : `\`${String(definition.default)}\``;
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > WRAP_COLUMNS && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += (line.trim() === '' ? '' : ' ') + word;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  return lines;
}
