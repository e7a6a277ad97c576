/**
 * Output: a table for people (default), JSON or YAML of the same objects for scripts. Colour only when the
 * stream is a terminal (and NO_COLOR is not set): node:util's styleText decides that from the stream.
 */
import { styleText } from 'node:util';
import type { Writable } from 'node:stream';
import { dumpYaml } from '@kubernetes/client-node';

import type { NodeExplanation } from './explain/nodes.ts';
import type { Verdict } from './explain/next-step.ts';
import { usageText } from './explain/next-step.ts';
import type { PodExplanation } from './explain/pod.ts';
import type { PolicyPreview } from './explain/preview.ts';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export interface Style {
  verdict(verdict: Verdict, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

export function styleFor(stream: Writable): Style {
  const paint = (format: Parameters<typeof styleText>[0], text: string) =>
    styleText(format, text, { stream: stream as NodeJS.WriteStream });
  const colours: Record<Verdict, Parameters<typeof styleText>[0]> = {
    ok: 'green',
    'not-selected': 'cyan',
    waiting: 'yellow',
    problem: 'red',
    'not-applicable': 'gray',
  };
  return {
    verdict: (verdict, text) => paint(colours[verdict], text),
    bold: (text) => paint('bold', text),
    dim: (text) => paint('dim', text),
  };
}

/** JSON or YAML of `value`, or `table()` for people. */
export function formatOutput(value: unknown, format: OutputFormat, table: () => string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return dumpYaml(value);
    case 'table':
      return table();
    default: {
      const unknown: never = format;
      return String(unknown);
    }
  }
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const groups = (ids: readonly string[]): string => (ids.length > 0 ? ids.join(', ') : '-');

export function renderPod(x: PodExplanation, style: Style, nowMs: number): string {
  const out: string[] = [];
  const field = (label: string, value: string) => out.push(`${style.bold(label.padEnd(12))}${value}`);
  field(
    'Pod',
    `${x.pod.namespace}/${x.pod.name}${x.pod.node ? ` on ${x.pod.node}` : ''} (${x.pod.phase ?? 'Unknown'})`,
  );
  field('Verdict', style.verdict(x.verdict, `${x.verdict}: ${x.summary}`));
  if (x.nextStep) field('Next step', x.nextStep);
  field(
    'Groups',
    `${groups(x.groups.securityGroups)}${x.groups.sources.length ? ` (from ${x.groups.sources.join(', ')})` : ''}`,
  );
  field('Pod ENI', x.pod.requestsPodEni ? 'requested (vpc.amazonaws.com/pod-eni)' : 'not requested');

  out.push('');
  if (x.policies.length === 0) out.push(`No SecurityGroupPolicy in namespace ${x.pod.namespace}.`);
  else {
    const [header = '', ...rows] = table(
      ['POLICY', 'SELECTS', 'VALID', 'GROUPS'],
      x.policies.map((policy) => [
        policy.name,
        policy.selects ? 'yes' : 'no',
        policy.validity === 'valid' ? 'True' : policy.validity === 'invalid' ? 'False' : 'pending',
        groups(policy.groups),
      ]),
    )
      .trimEnd()
      .split('\n');
    out.push(header);
    x.policies.forEach((policy, index) => {
      out.push(rows[index] ?? '');
      for (const line of policy.why) out.push(`    ${policy.selects ? '✓' : '✗'} ${line}`);
      if (policy.problem) out.push(`    ! ${policy.problem}`);
      if (policy.grants && !policy.grants.allowed) out.push(`    ! ${policy.grants.message}`);
    });
  }
  for (const annotation of x.annotations) {
    const verdict =
      annotation.refusals.length === 0
        ? `allowed: ${groups(annotation.allowed)}`
        : `${annotation.allowed.length ? `allowed: ${groups(annotation.allowed)}; ` : ''}refused: ${annotation.refusals.map((r) => r.message).join('; ')}`;
    out.push(`Annotation on ${annotation.carrier}: ${annotation.value} → ${verdict}`);
  }

  out.push('');
  const branch = x.branch;
  field(
    'Branch ENI',
    branch
      ? [
          branch.eniId ?? '(not created)',
          `phase ${branch.phase}`,
          ...(branch.vlanId !== undefined ? [`VLAN ${branch.vlanId}`] : []),
          ...(branch.privateIp ? [`IP ${branch.privateIp}`] : []),
          ...(branch.subnetId
            ? [`subnet ${branch.subnetId}${branch.subnetCidr ? ` (${branch.subnetCidr})` : ''}`]
            : []),
          `groups ${groups(branch.appliedSecurityGroups ?? branch.securityGroups)}`,
        ].join(', ')
      : 'none',
  );
  if (x.ec2) {
    field(
      'EC2',
      x.ec2.found
        ? `${x.ec2.eniId} carries ${groups(x.ec2.securityGroupIds)}${x.ec2.drift ? style.verdict('problem', ' (drift)') : ''}`
        : style.verdict('problem', `${x.ec2.eniId} does not exist`),
    );
  }
  if (x.node) {
    const trunk = x.node.trunk
      ? `trunk ${x.node.trunk.eniId ?? '(none yet)'} ${x.node.trunk.state}${x.node.trunk.message ? `: ${x.node.trunk.message}` : ''}`
      : `no trunk: ${x.node.eligibility}`;
    field('Node', `${x.node.name}: ${trunk}`);
    if (x.node.usage)
      field('Capacity', `${usageText(x.node.name, x.node.usage).replace(/^node \S+ /, '')}, ${x.node.usage.free} free`);
  }

  if (x.events.length > 0) {
    out.push('');
    out.push(
      table(
        ['LAST SEEN', 'TYPE', 'REASON', 'MESSAGE'],
        x.events.map((event) => [
          `${age(event.lastSeen, nowMs)}${event.count > 1 ? ` (x${event.count})` : ''}`,
          event.type,
          event.reason,
          event.message,
        ]),
      ).trimEnd(),
    );
  }
  for (const note of x.notes) out.push(style.dim(`note: ${note}`));
  return out.join('\n') + '\n';
}

/** Reads RBAC refused, after a list: what the table above could not show. */
function renderNotes(notes: readonly string[], style: Style): string {
  return notes.map((note) => `${style.dim(`note: ${note}`)}\n`).join('');
}

export function renderNodes(nodes: readonly NodeExplanation[], notes: readonly string[], style: Style): string {
  if (nodes.length === 0) return `No nodes.\n${renderNotes(notes, style)}`;
  const rendered = table(
    ['NODE', 'TYPE', 'ELIGIBLE', 'TRUNK', 'CAPACITY', 'USED', 'COOLING', 'FREE', 'WAITING'],
    nodes.map((node) => {
      const usage = node.usage;
      return [
        node.name,
        node.instanceType ?? '-',
        node.eligible ? 'yes' : 'no',
        node.trunk ? `${node.trunk.state}${node.trunk.eniId ? ` ${node.trunk.eniId}` : ''}` : '-',
        usage ? String(usage.capacity) : '-',
        usage ? String(usage.inUse) : '-',
        usage ? String(usage.coolingDown) : '-',
        usage ? String(usage.free) : '-',
        usage ? String(usage.waiting) : '-',
      ];
    }),
  );
  const reasons = nodes
    .filter((node) => !node.eligible || node.trunk?.message)
    .map((node) => style.dim(`${node.name}: ${node.trunk?.message ?? node.reason}`));
  const notesBlock = notes.length > 0 ? `\n${renderNotes(notes, style)}` : '';
  return rendered + (reasons.length > 0 ? `\n${reasons.join('\n')}\n` : '') + notesBlock;
}

export function renderPreviews(previews: readonly PolicyPreview[], notes: readonly string[], style: Style): string {
  const notesBlock = notes.length > 0 ? `\n${renderNotes(notes, style)}` : '';
  return previews.map((preview) => renderPreview(preview, style)).join('\n') + notesBlock;
}

function renderPreview(preview: PolicyPreview, style: Style): string {
  const out: string[] = [];
  out.push(style.bold(`SecurityGroupPolicy ${preview.namespace}/${preview.name} (${preview.action})`));
  for (const reference of preview.references) {
    out.push(
      `  ${reference.reference} → ${reference.groupId ?? 'resolved by the operator after the apply'}${reference.from === 'live-status' ? ' (as the live policy resolved it)' : ''}`,
    );
  }
  for (const problem of preview.problems) out.push(style.verdict('problem', `  problem: ${problem}`));
  if (preview.pods.length === 0) out.push(`  selects no running pod (${preview.untouched} left alone)`);
  else {
    out.push(
      table(
        ['POD', 'CHANGE', 'GROUPS NOW', 'GROUPS AFTER', 'EFFECT'],
        preview.pods.map((pod) => [
          pod.pod,
          pod.change,
          groups(pod.before.securityGroups),
          groups(pod.after.securityGroups),
          pod.effect,
        ]),
      ).trimEnd(),
    );
    out.push(style.dim(`${preview.untouched} other running pod(s) in ${preview.namespace} left alone`));
  }
  return out.join('\n') + '\n';
}

/** "45s", "3m", "2h", "4d" before `nowMs`. */
export function age(iso: string, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
