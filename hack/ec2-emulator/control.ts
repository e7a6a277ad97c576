import { dumpInstance, dumpState, dumpSubnet, dumpVpc } from './dump.ts';
import type { Emulator } from './emulator.ts';
import { createNetworkInterface } from './state/ops-eni.ts';
import {
  addSecurityGroup,
  addSubnet,
  addSubnetIpv6Cidr,
  addVpcCidr,
  addVpcIpv6Cidr,
  applySeed,
  launchInstance,
  terminateInstance,
} from './state/ops-topology.ts';
import type { EmulatorControl } from './types.ts';

/** The in-process control handle (hack/ec2-emulator/README.md, "Control API"). Errors are thrown as Ec2Fault with the EC2 code that fits. */
export function createControl(emulator: Emulator): EmulatorControl {
  const store = emulator.store;
  return {
    seed: (seed) => applySeed(store, seed),
    launchInstance: (input) => dumpInstance(launchInstance(store, input)),
    terminateInstance: (instanceId) => terminateInstance(store, instanceId),
    addVpcCidr: (vpcId, cidrBlock) =>
      dumpVpc(store, addVpcCidr(store, vpcId, cidrBlock, store.config.eventualConsistencyMs)),
    addVpcIpv6Cidr: (vpcId, cidrBlock) => dumpVpc(store, addVpcIpv6Cidr(store, vpcId, cidrBlock)),
    addSubnet: (input) => dumpSubnet(addSubnet(store, input)),
    addSubnetIpv6Cidr: (subnetId, cidrBlock) => dumpSubnet(addSubnetIpv6Cidr(store, subnetId, cidrBlock)),
    addSecurityGroup: (input) => {
      store.requireVpc(input.vpcId);
      const group = addSecurityGroup(store, input.vpcId, input);
      return { id: group.id, name: group.name, vpcId: group.vpcId, tags: Object.fromEntries(group.tags) };
    },
    bulkCreateNetworkInterfaces: (input) => {
      const ids: string[] = [];
      for (let i = 0; i < input.count; i++) {
        const eni = createNetworkInterface(store, {
          subnetId: input.subnetId,
          groupIds: input.securityGroupIds,
          description: input.description ?? '',
          interfaceType: 'interface',
          tags: new Map(Object.entries(input.tags ?? {})),
          secondaryPrivateIpCount: 0,
          bypassQuota: true,
        });
        eni.visibleAt = 0;
        ids.push(eni.id);
      }
      return ids;
    },
    setFaults: (rules) => emulator.faults.set(rules),
    setThrottling: (config) => emulator.throttler.configure(config),
    setLatency: (config) => {
      emulator.latency = config;
    },
    setEventualConsistency: (delayMs) => {
      store.config.eventualConsistencyMs = delayMs;
    },
    setQuotas: (quotas) => {
      if (quotas.securityGroupsPerInterface !== undefined) {
        store.config.securityGroupsPerInterface = Math.min(16, Math.max(1, quotas.securityGroupsPerInterface));
      }
      if (quotas.networkInterfacesPerAz !== undefined)
        store.config.networkInterfacesPerAz = quotas.networkInterfacesPerAz;
    },
    setTrunkingEnabled: (enabled) => {
      store.config.trunkingEnabled = enabled;
    },
    reset: () => emulator.reset(),
    dump: () => dumpState(store),
    counters: () => emulator.counters(),
    mutations: () => emulator.mutations(),
  };
}

/** How a JSON body maps onto each control method's arguments (`POST /_emulator/<method>`). */
export function invokeControl(control: EmulatorControl, method: string, body: unknown): unknown {
  const args = (body ?? {}) as Record<string, unknown>;
  switch (method) {
    case 'seed':
      return control.seed(args as never);
    case 'launchInstance':
      return control.launchInstance(args as never);
    case 'terminateInstance':
      return control.terminateInstance(String(args.instanceId));
    case 'addVpcCidr':
      return control.addVpcCidr(String(args.vpcId), String(args.cidrBlock));
    case 'addVpcIpv6Cidr':
      return control.addVpcIpv6Cidr(String(args.vpcId), String(args.cidrBlock));
    case 'addSubnet':
      return control.addSubnet(args as never);
    case 'addSubnetIpv6Cidr':
      return control.addSubnetIpv6Cidr(String(args.subnetId), String(args.cidrBlock));
    case 'addSecurityGroup':
      return control.addSecurityGroup(args as never);
    case 'bulkCreateNetworkInterfaces':
      return control.bulkCreateNetworkInterfaces(args as never);
    case 'setFaults':
      return control.setFaults((Array.isArray(body) ? body : args.rules) as never);
    case 'setThrottling':
      return control.setThrottling(args as never);
    case 'setLatency':
      return control.setLatency((typeof body === 'boolean' ? body : (args.latency ?? args)) as never);
    case 'setEventualConsistency':
      return control.setEventualConsistency(Number(args.delayMs));
    case 'setQuotas':
      return control.setQuotas(args as never);
    case 'setTrunkingEnabled':
      return control.setTrunkingEnabled(Boolean(args.enabled));
    case 'reset':
      return control.reset();
    case 'dump':
      return control.dump();
    case 'counters':
      return control.counters();
    case 'mutations':
      return control.mutations();
    default:
      return undefined;
  }
}

export const CONTROL_METHODS = new Set([
  'seed',
  'launchInstance',
  'terminateInstance',
  'addVpcCidr',
  'addSubnet',
  'bulkCreateNetworkInterfaces',
  'setFaults',
  'setThrottling',
  'setLatency',
  'setEventualConsistency',
  'setQuotas',
  'setTrunkingEnabled',
  'reset',
  'dump',
  'counters',
  'mutations',
]);
