/**
 * What the demo prints: one line per change while it runs, and the summary table at the end. Pure
 * functions of what was read from the cluster and EC2, so the checks that decide `--once`'s exit status
 * are plain data.
 */
export interface TrunkView {
  node: string;
  state: string;
  eniId: string;
  capacity: number | undefined;
}

export interface PodRow {
  pod: string;
  node: string;
  /** From the pod annotation (what the VPC CNI reads). */
  vlanId: number | undefined;
  eniId: string | undefined;
  ip: string | undefined;
  /** The ENI's groups as EC2 reports them, sorted. */
  groups: string[];
  /** Whether EC2 associates this ENI with the node's trunk under the annotated VLAN. */
  isAssociated: boolean;
}

export type RowVerdict = { ok: true } | { ok: false; problem: string };

export function judgeRow(row: PodRow, expectedGroups: readonly string[]): RowVerdict {
  if (row.eniId === undefined) return { ok: false, problem: 'no vpc.amazonaws.com/pod-eni annotation yet' };
  if (!row.isAssociated)
    return { ok: false, problem: `${row.eniId} is not associated with the node's trunk at VLAN ${row.vlanId}` };
  if (row.groups.join(',') !== [...expectedGroups].sort().join(',')) {
    return {
      ok: false,
      problem: `groups ${row.groups.join(',') || '(none)'} ≠ expected ${[...expectedGroups].sort().join(',')}`,
    };
  }
  return { ok: true };
}

export function trunkLine(trunk: TrunkView): string {
  const capacity = trunk.capacity === undefined ? '' : `, ${trunk.capacity} branch ENIs`;
  return `  node ${trunk.node}: trunk ${trunk.eniId || '(pending)'} ${trunk.state}${capacity}`;
}

export function podLine(row: PodRow): string {
  return `  pod catalog/${row.pod}: ${row.eniId} VLAN ${row.vlanId} ${row.ip} on ${row.node}`;
}

/** A fixed-width table; the last column says whether the row passed. */
export function summaryTable(rows: readonly PodRow[], expectedGroups: readonly string[]): string {
  const header = ['POD', 'NODE', 'VLAN', 'ENI', 'IP', 'GROUPS', 'OK'];
  const body = rows.map((row) => {
    const verdict = judgeRow(row, expectedGroups);
    return [
      `catalog/${row.pod}`,
      row.node,
      row.vlanId === undefined ? '-' : String(row.vlanId),
      row.eniId ?? '-',
      row.ip ?? '-',
      row.groups.join(',') || '-',
      verdict.ok ? 'yes' : `NO: ${verdict.problem}`,
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)),
  );
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [format(header), ...body.map(format)].join('\n');
}
