/**
 * A private world for the node tests: its own kube-apiserver + etcd (the node and trunk controllers watch
 * every Node in the cluster, so sharing the run's control plane with other operators under test would make
 * two operators fight over the same nodes), an EC2 emulator over HTTP, and the real node and trunk
 * controllers on the framework's Manager, which can be stopped and started again (operator restart).
 */

import { startControlPlane, type ControlPlane } from '../../../hack/control-plane/control-plane.ts';
import { installCrds } from '../../../hack/control-plane/crds.ts';
import { startEc2Emulator, type RunningEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import { createEc2Api, type Ec2Api } from '../../../operator/aws/index.ts';
import type { ControllerDeps } from '../../../operator/controllers/deps.ts';
import { registerNodeController, type NodeObject } from '../../../operator/controllers/node/index.ts';
import { registerTrunkInterfaceController } from '../../../operator/controllers/trunkinterface/index.ts';
import { registerVpcNetwork } from '../../../operator/controllers/vpcnetwork/index.ts';
import {
  createEventRecorder,
  createKubeClient,
  createManager,
  loadKubeconfigFiles,
  systemClock,
  type FlushableEventRecorder,
  type FrameworkManager,
  type KubeClient,
} from '../../../operator/framework/index.ts';
import { createLimitsProvider } from '../../../operator/limits/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';

export const CLUSTER = 'nodes-it';
export const AZ = 'us-west-2a';

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
  const plane = await startControlPlane();
  await installCrds(plane.kubeconfigPath);
  const client = createKubeClient(await loadKubeconfigFiles([plane.kubeconfigPath]));

  const emulator = await startEc2Emulator({
    port: 0,
    seed: {
      vpcs: [
        {
          cidrBlocks: ['10.0.0.0/16'],
          subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: AZ, tags: { Name: 'nodes' } }],
          securityGroups: [{ name: 'node-group' }],
        },
      ],
    },
  });
  const dump = emulator.control.dump();
  const vpcId = dump.vpcs[0]?.id ?? '';
  const subnetId = dump.subnets[0]?.id ?? '';
  const nodeGroupId = dump.securityGroups.find((group) => group.name === 'node-group')?.id ?? '';
  const ec2 = createEc2Api({
    endpoint: emulator.endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

  let manager: FrameworkManager | undefined;
  let recorder: FlushableEventRecorder | undefined;
  let running: Promise<void> | undefined;

  const world: NodeWorld = {
    plane,
    emulator,
    client,
    ec2,
    vpcId,
    subnetId,
    nodeGroupId,
    async startOperator() {
      manager = createManager({ client, log: silentLogger });
      recorder = createEventRecorder({ client, log: silentLogger });
      const deps: ControllerDeps = {
        manager,
        client,
        ec2,
        limits: createLimitsProvider({ ec2, overrides: () => ({}) }),
        recorder,
        clock: systemClock,
        log: silentLogger,
        cluster: { clusterName: CLUSTER, vpcId },
        cooldown: { currentMs: () => 30_000 },
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
    async addNode(name, options = {}) {
      const instanceType = options.instanceType ?? 'm5.large';
      const instance = emulator.control.launchInstance({
        instanceType,
        subnet: subnetId,
        securityGroups: [nodeGroupId],
      });
      const node: NodeObject = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            'kubernetes.io/os': 'linux',
            'node.kubernetes.io/instance-type': instanceType,
            ...options.labels,
          },
        },
        spec: { providerID: `aws:///${AZ}/${instance.id}` },
      };
      await client.create(Kinds.Node, node);
      await client.mergePatchStatus(Kinds.Node, name, {
        capacity: { cpu: '2', pods: '29' },
        allocatable: { cpu: '2', pods: '29' },
      });
      return { instanceId: instance.id };
    },
    async stop() {
      await world.stopOperator();
      await emulator.stop();
      await plane.stop();
    },
  };
  return world;
}
