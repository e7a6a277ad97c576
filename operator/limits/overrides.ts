/**
 * Branch ENI capacity for instance types missing from the generated table, from the operator's override
 * ConfigMap (`sgp-operator-config` in the operator's namespace). Each key is an instance type, each value
 * its branch ENI limit, e.g. `m9x.large: "12"`. The ConfigMap is watched, so an edit applies without a
 * restart; ENI and IP counts for such types still come from DescribeInstanceTypes.
 */
import { MAX_VLAN_ID } from '../api/constants.ts';

export const LIMITS_OVERRIDE_CONFIGMAP = 'sgp-operator-config';

export interface BranchCapacityOverrides {
  capacities: Record<string, number>;
  /** One line per rejected entry, naming the key and the fix. */
  problems: string[];
}

const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/;

export function parseBranchCapacityOverrides(
  data: Readonly<Record<string, string>> | undefined,
): BranchCapacityOverrides {
  const result: BranchCapacityOverrides = { capacities: {}, problems: [] };
  for (const [key, raw] of Object.entries(data ?? {})) {
    const where = `ConfigMap ${LIMITS_OVERRIDE_CONFIGMAP} key "${key}"`;
    if (!INSTANCE_TYPE.test(key)) {
      result.problems.push(`${where} is not an instance type name (family.size, e.g. m9x.large); rename the key`);
      continue;
    }
    const value = Number(raw.trim());
    if (!Number.isInteger(value) || value < 1 || value > MAX_VLAN_ID) {
      result.problems.push(
        `${where} has "${raw}"; set a whole number of branch ENIs from 1 to ${MAX_VLAN_ID} (one VLAN each)`,
      );
      continue;
    }
    result.capacities[key] = value;
  }
  return result;
}
