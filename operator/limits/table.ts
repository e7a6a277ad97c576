/**
 * The generated per-instance-type table (instance-types.json, from the published Go package
 * github.com/aws/amazon-vpc-resource-controller-k8s/pkg/aws/vpc via `make generate-limits`). EC2 publishes
 * no branch-ENI limit through any API (docs/compatibility.md#instance-type-limits), so this file is the source for the branch capacity.
 */
import { readFileSync } from 'node:fs';
import type { InstanceTypeLimits } from './types.ts';

/** One row as hack/limits-gen writes it (field names of the Go struct, lower-camel-cased). */
export interface GeneratedLimitsRow {
  interface: number;
  ipv4PerInterface: number;
  isTrunkingCompatible: boolean;
  branchInterface: number;
  defaultNetworkCardIndex: number;
  networkCards: { networkCardIndex: number; maximumNetworkInterfaces: number }[];
  hypervisor: string;
  isBareMetal: boolean;
}

export interface GeneratedLimitsFile {
  comment: string;
  source: { module: string; version: string };
  instanceTypes: Record<string, GeneratedLimitsRow>;
}

export function toInstanceTypeLimits(instanceType: string, row: GeneratedLimitsRow): InstanceTypeLimits {
  return {
    instanceType,
    maxEnis: row.interface,
    ipv4PerEni: row.ipv4PerInterface,
    isTrunkingCompatible: row.isTrunkingCompatible,
    branchEnis: row.isTrunkingCompatible ? row.branchInterface : 0,
    defaultNetworkCardIndex: row.defaultNetworkCardIndex,
    networkCards: row.networkCards.map((card) => ({ ...card })),
    source: 'table',
  };
}

let loaded: GeneratedLimitsFile | undefined;

/** The shipped table, read once. */
export function generatedLimits(): GeneratedLimitsFile {
  loaded ??= JSON.parse(readFileSync(new URL('./instance-types.json', import.meta.url), 'utf8')) as GeneratedLimitsFile;
  return loaded;
}
