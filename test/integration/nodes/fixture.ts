/**
 * The node tests' world (test/kit/world.ts): a private control plane and EC2 emulator, and the real node and
 * trunk controllers on the framework's Manager, which can be stopped and started again (operator restart).
 */
import type { ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import type { RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import type { Ec2Api } from '../../../operator/aws/index.ts';
import { controllerSettings, type ControllerDeps } from '../../../operator/controllers/deps.ts';
import { registerNodeController } from '../../../operator/controllers/node/index.ts';
import { registerTrunkInterfaceController } from '../../../operator/controllers/trunkinterface/index.ts';
import { registerVpcNetwork } from '../../../operator/controllers/vpcnetwork/index.ts';
import {
  createEventRecorder,
  createManager,
  systemClock,
  type FlushableEventRecorder,
  type FrameworkManager,
  type KubeClient,
} from '../../../operator/framework/index.ts';
import { createLimitsProvider } from '../../../operator/limits/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';
import { defaultOptions } from '../../../operator/options.ts';
import { AZ, REGION, startWorld } from '../../kit/world.ts';
import { DEFAULT_POD_NETWORK } from '../../../operator/controllers/podnetwork/index.ts';

export const CLUSTER = 'nodes-it';
export { AZ };

export interface NodeWorld {
  plane: ControlPlane;
  emulator: RunningEc2Emulator;
  client: KubeClient;
  ec2: Ec2Api;
  vpcId: string;
  subnetId: string;
  nodeGroupId: string;
  startOperator(): Promise<void>;
  stopOperator(): Promise<void>;
  /** Launches an EC2 instance and creates its Node (as kubelet would register it). */
  addNode(
    name: string,
    options?: { instanceType?: string; labels?: Record<string, string> },
  ): Promise<{ instanceId: string }>;
  stop(): Promise<void>;
}

export async function startNodeWorld(): Promise<NodeWorld> {
  const base = await startWorld();
  const { client, kubeConfig, vpcId } = base;
  const ec2 = base.ec2();

  let manager: FrameworkManager | undefined;
  let recorder: FlushableEventRecorder | undefined;
  let running: Promise<void> | undefined;

  const world: NodeWorld = {
    plane: base.plane,
    emulator: base.emulator,
    client,
    ec2,
    vpcId,
    subnetId: base.subnetId,
    nodeGroupId: base.groups['node-group'] ?? '',
    async startOperator() {
      manager = createManager({ kubeConfig, client, log: silentLogger });
      recorder = createEventRecorder({ client, log: silentLogger });
      const deps: ControllerDeps = {
        manager,
        client,
        ec2,
        limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
        recorder,
        clock: systemClock,
        log: silentLogger,
        cluster: { clusterName: CLUSTER, vpcId, podNetwork: DEFAULT_POD_NETWORK },
        cooldown: { currentMs: () => 30_000 },
        settings: controllerSettings(defaultOptions({ clusterName: CLUSTER, region: REGION })),
      };
      registerNodeController(deps);
      registerTrunkInterfaceController(deps, registerVpcNetwork(deps));
      running = manager.start(new AbortController().signal);
    },
    async stopOperator() {
      await manager?.stop();
      await running;
      await recorder?.flush();
      manager = undefined;
    },
    addNode: (name, options = {}) => base.addNode(name, options),
    async stop() {
      await world.stopOperator();
      await base.stop();
    },
  };
  return world;
}
