import { readFileSync } from 'node:fs';
import type { GeneratedLimitsRow as TableEntry } from '../../../operator/limits/table.ts';
import type { InstanceTypeInfo } from './model.ts';

const TABLE_URL = new URL('../../../operator/limits/instance-types.json', import.meta.url);

let cached: ReadonlyMap<string, InstanceTypeInfo> | undefined;

/** The generated VPC-RC limits table (read, never written), sorted by type name; loaded once per process. */
export function instanceTypes(): ReadonlyMap<string, InstanceTypeInfo> {
  if (cached) return cached;
  const parsed = JSON.parse(readFileSync(TABLE_URL, 'utf8')) as { instanceTypes: Record<string, TableEntry> };
  const table = new Map<string, InstanceTypeInfo>();
  for (const name of Object.keys(parsed.instanceTypes).sort()) {
    const entry = parsed.instanceTypes[name];
    if (!entry) continue;
    table.set(name, {
      instanceType: name,
      maximumNetworkInterfaces: entry.interface,
      ipv4PerInterface: entry.ipv4PerInterface,
      isTrunkingCompatible: entry.isTrunkingCompatible,
      branchInterfaces: entry.branchInterface,
      defaultNetworkCardIndex: entry.defaultNetworkCardIndex,
      networkCards: entry.networkCards,
      hypervisor: entry.hypervisor,
      isBareMetal: entry.isBareMetal,
    });
  }
  cached = table;
  return table;
}
