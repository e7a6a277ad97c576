/** What other folders may use from operator/limits. */
export type { InstanceTypeLimits, LimitsProvider } from './types.ts';
export { createLimitsProvider, limitsFromDescribe, type LimitsProviderOptions } from './provider.ts';
export { podEniCapacity, freeDeviceIndex, deviceIndexSpace } from './capacity.ts';
export { generatedLimits, toInstanceTypeLimits, type GeneratedLimitsFile } from './table.ts';
export { LIMITS_OVERRIDE_CONFIGMAP, parseBranchCapacityOverrides, type BranchCapacityOverrides } from './overrides.ts';
