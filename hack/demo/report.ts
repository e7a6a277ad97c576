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
  /** From the annotation: the IPv6 address, and the subnets' CIDRs the CNI reads. */
  ipv6: string | undefined;
  subnetCidr: string | undefined;
  subnetV6Cidr: string | undefined;
  /** The subnet EC2 placed the ENI in, and the node's zone. */
  eniSubnetId: string | undefined;
  zone: string | undefined;
  /** The ENI's groups as EC2 reports them, sorted. */
  groups: string[];
  /** Whether EC2 associates this ENI with the node's trunk under the annotated VLAN. */
  isAssociated: boolean;
}

export type RowVerdict = { ok: true } | { ok: false; problem: string };

/** The pod network's own check (hack/demo/modes.ts): undefined when the ENI is as the mode wants it. */
export type NetworkCheck = (row: PodRow) => string | undefined;

export function judgeRow(row: PodRow, expectedGroups: readonly string[], network?: NetworkCheck): RowVerdict {
  if (row.eniId === undefined) return { ok: false, problem: 'no vpc.amazonaws.com/pod-eni annotation yet' };
  if (!row.isAssociated)
    return { ok: false, problem: `${row.eniId} is not associated with the node's trunk at VLAN ${row.vlanId}` };
  if (row.groups.join(',') !== [...expectedGroups].sort().join(',')) {
    return {
      ok: false,
      problem: `groups ${row.groups.join(',') || '(none)'} ≠ expected ${[...expectedGroups].sort().join(',')}`,
    };
  }
  const problem = network?.(row);
  return problem === undefined ? { ok: true } : { ok: false, problem };
}

export function trunkLine(trunk: TrunkView): string {
  const capacity = trunk.capacity === undefined ? '' : `, ${trunk.capacity} branch ENIs`;
  return `  node ${trunk.node}: trunk ${trunk.eniId || '(pending)'} ${trunk.state}${capacity}`;
}

export function podLine(row: PodRow): string {
  return `  pod catalog/${row.pod}: ${row.eniId} VLAN ${row.vlanId} ${addresses(row)} on ${row.node}`;
}

/** "10.42.96.6", "2600:…::1", or both, as the annotation carries them. */
function addresses(row: PodRow): string {
  return [row.ip, row.ipv6].filter((address) => address !== undefined && address !== '').join(' ') || '-';
}

/** A fixed-width table; the last column says whether the row passed. */
export function summaryTable(
  rows: readonly PodRow[],
  expectedGroups: readonly string[],
  network?: NetworkCheck,
): string {
  const header = ['POD', 'NODE', 'VLAN', 'ENI', 'IP', 'SUBNET', 'GROUPS', 'OK'];
  const body = rows.map((row) => {
    const verdict = judgeRow(row, expectedGroups, network);
    return [
      `catalog/${row.pod}`,
      row.node,
      row.vlanId === undefined ? '-' : String(row.vlanId),
      row.eniId ?? '-',
      addresses(row),
      [row.subnetCidr, row.subnetV6Cidr].filter(Boolean).join(' ') || '-',
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
