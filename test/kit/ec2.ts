/**
 * EC2 for reconciler unit tests: the EC2 emulator's own state machine (hack/ec2-emulator) behind the operator's
 * real SDK adapter (operator/aws/sdk-ec2-api.ts), in process: the SDK's requests go to `Emulator.handle`
 * instead of a socket. Every rule the emulator's conformance tests hold it to (ClientToken replay, ENI and
 * attachment states, trunk rules, limits, the exact NotFound and Malformed codes) holds here too, so a unit
 * test cannot pass against a friendlier EC2 than the integration tests meet (docs/ec2-semantics.md).
 *
 * On top of the emulator:
 * - a call log of the port (`calls`, `callsOf`) and the emulator's log of mutations that took effect;
 * - fault hooks: `failNext(method, error)` rejects the next calls of a port method before EC2 sees them;
 *   `control.setFaults` fails EC2 actions by code, including `phase: 'after'` (done, but the answer lost);
 * - `prepare`, the same adapter without the log, for arranging a test's world;
 * - `reset()`, which forgets the log and the scripted failures (not the world);
 * - a world in a few lines: `seedVpc()`, `launchNode()`, `addTrunk()`, and the groups a user makes and deletes
 *   (`createSecurityGroup`, `deleteSecurityGroup`).
 */
import { Readable } from 'node:stream';
import { CreateSecurityGroupCommand, DeleteSecurityGroupCommand, EC2Client, type Tag } from '@aws-sdk/client-ec2';
import { createControl } from '../../hack/ec2-emulator/control.ts';
import { Emulator } from '../../hack/ec2-emulator/emulator.ts';
import type {
  DumpAssociation,
  DumpNetworkInterface,
  Ec2EmulatorOptions,
  EmulatorControl,
  MutationRecord,
  SeedConnectionTracking,
} from '../../hack/ec2-emulator/types.ts';
import { SdkEc2Api } from '../../operator/aws/sdk-ec2-api.ts';
import type { CallOptions, Ec2Api } from '../../operator/aws/index.ts';
import type { Clock } from '../../operator/framework/index.ts';

export type Ec2Method = keyof Ec2Api;

export interface Ec2Call {
  method: Ec2Method;
  input: unknown;
}

/** What `seedVpc` made: one VPC, one subnet per zone, the nodes' group and a few groups for pods. */
export interface TestVpc {
  vpcId: string;
  /** The first zone's subnet: where nodes are launched unless told otherwise. */
  subnetId: string;
  subnetCidr: string;
  availabilityZone: string;
  /** The group on every node's primary ENI (the node's groups, a trunk's groups). */
  nodeGroupId: string;
  /** Groups for policies, in the order of their names. */
  podGroupIds: string[];
  /** Every group by name: `node`, and the pod groups (`pod-a`, `pod-b`, … unless named). */
  groups: Record<string, string>;
}

export interface TestVpcOptions {
  /** Primary block first. Default 10.0.0.0/16. */
  cidrBlocks?: string[];
  /** Default one subnet 10.0.0.0/24 in us-west-2a. */
  subnets?: { cidrBlock: string; availabilityZone: string; tags?: Record<string, string> }[];
  /** How many pod groups (named `pod-a`, `pod-b`, …), or their names. Default 4. */
  podGroups?: number | readonly string[];
  /** Tags of pod group i (for grant tests). */
  podGroupTags?: (index: number) => Record<string, string>;
}

export interface EmulatedEc2Options extends Ec2EmulatorOptions {
  /** The emulator's clock; pass the test's FakeClock so attach delays and visibility follow it. */
  clock?: Clock;
}

/** The smithy HTTP handler that answers from the emulator in process. */
function inProcessHandler(emulator: Emulator) {
  return {
    metadata: { handlerProtocol: 'in-process' },
    handle(request: { method: string; path: string; headers: Record<string, string>; body?: unknown }) {
      const body = typeof request.body === 'string' ? request.body : Buffer.from(request.body as Uint8Array).toString();
      const answer = emulator.handle({
        method: request.method,
        path: request.path,
        rawQuery: '',
        headers: request.headers,
        body,
      });
      return Promise.resolve({
        response: {
          statusCode: answer.status,
          reason: '',
          headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': answer.requestId },
          body: Readable.from([Buffer.from(answer.body)]),
        },
      });
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

export class EmulatedEc2 implements Ec2Api {
  readonly emulator: Emulator;
  readonly control: EmulatorControl;
  /** The adapter without the call log or the fault hooks: for arranging a test's world. */
  readonly prepare: SdkEc2Api;
  /** The SDK client on the emulator: for the EC2 actions a user makes and the operator never does. */
  readonly client: EC2Client;
  readonly calls: Ec2Call[] = [];
  readonly #failures = new Map<Ec2Method, Error[]>();

  constructor(options: EmulatedEc2Options = {}) {
    const { clock, ...emulatorOptions } = options;
    this.emulator = new Emulator(emulatorOptions, clock ? () => clock.now() : Date.now);
    this.control = createControl(this.emulator);
    if (emulatorOptions.seed) this.control.seed(emulatorOptions.seed);
    this.client = new EC2Client({
      region: emulatorOptions.region ?? 'us-west-2',
      endpoint: 'http://ec2.in-process.invalid',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      // One attempt: a test that scripts a retryable error sees it, as the reconciler would after the SDK's retries.
      maxAttempts: 1,
      requestHandler: inProcessHandler(this.emulator) as never,
    });
    this.prepare = new SdkEc2Api({ client: this.client });
  }

  // ---- the log and the hooks ----

  /** The next `times` calls of `method` reject with `error`, before EC2 sees them. */
  failNext(method: Ec2Method, error: Error, times = 1): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), ...Array.from({ length: times }, () => error)]);
  }

  /** The inputs of every call of `method`, oldest first. */
  callsOf(method: Ec2Method): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.input);
  }

  /** Methods of the calls that change something (every call but the describes), oldest first. */
  mutatingCalls(): Ec2Method[] {
    return this.calls.map((call) => call.method).filter((method) => !method.startsWith('describe'));
  }

  /** Mutating EC2 actions that took effect, oldest first (the emulator's log). */
  mutations(): MutationRecord[] {
    return this.emulator.mutations();
  }

  /** Forgets the call log and the scripted failures; the world stays. */
  reset(): void {
    this.calls.length = 0;
    this.#failures.clear();
  }

  // ---- reading the world ----

  enis(): DumpNetworkInterface[] {
    return this.control.dump().networkInterfaces;
  }

  /** ENIs described as branches (`aws-k8s-branch-eni`), whoever made them. */
  branchEnis(): DumpNetworkInterface[] {
    return this.enis().filter((eni) => eni.description === 'aws-k8s-branch-eni');
  }

  eni(id: string): DumpNetworkInterface | undefined {
    return this.enis().find((eni) => eni.id === id);
  }

  associations(): DumpAssociation[] {
    return this.control.dump().associations;
  }

  // ---- building a world ----

  seedVpc(options: TestVpcOptions = {}): TestVpc {
    const subnets = options.subnets ?? [{ cidrBlock: '10.0.0.0/24', availabilityZone: 'us-west-2a' }];
    const names =
      typeof options.podGroups === 'object'
        ? [...options.podGroups]
        : Array.from({ length: options.podGroups ?? 4 }, (_, index) => `pod-${String.fromCharCode(97 + index)}`);
    const podGroups = names.map((name, index) => ({
      name,
      ...(options.podGroupTags ? { tags: options.podGroupTags(index) } : {}),
    }));
    const seeded = this.control.seed({
      vpcs: [
        {
          cidrBlocks: options.cidrBlocks ?? ['10.0.0.0/16'],
          subnets,
          securityGroups: [{ name: 'node' }, ...podGroups],
        },
      ],
    });
    const [first] = subnets;
    return {
      vpcId: seeded.vpcIds[0] ?? '',
      subnetId: seeded.subnetIds[0] ?? '',
      subnetCidr: first?.cidrBlock ?? '',
      availabilityZone: first?.availabilityZone ?? '',
      nodeGroupId: seeded.securityGroupIds[0] ?? '',
      podGroupIds: seeded.securityGroupIds.slice(1),
      groups: Object.fromEntries(['node', ...names].map((name, index) => [name, seeded.securityGroupIds[index] ?? ''])),
    };
  }

  /**
   * A running instance in `vpc`'s first subnet (or `subnetId`) with the node group on its primary ENI (and
   * `connectionTracking`'s idle timeouts on it, when given).
   */
  launchNode(
    vpc: TestVpc,
    options: { instanceType?: string; subnetId?: string; connectionTracking?: SeedConnectionTracking } = {},
  ): string {
    return this.control.launchInstance({
      instanceType: options.instanceType ?? 'm5.large',
      subnet: options.subnetId ?? vpc.subnetId,
      securityGroups: [vpc.nodeGroupId],
      ...(options.connectionTracking === undefined ? {} : { connectionTracking: options.connectionTracking }),
    }).id;
  }

  /**
   * A trunk ENI attached to `instanceId` at device index 2, as the trunk controller leaves it, with the tags
   * it writes. Made through `prepare`, so it is not in the call log.
   */
  async addTrunk(vpc: TestVpc, instanceId: string, tags: Record<string, string> = {}): Promise<string> {
    const instance = this.control.dump().instances.find((candidate) => candidate.id === instanceId);
    const trunk = await this.prepare.createNetworkInterface({
      subnetId: instance?.subnetId ?? vpc.subnetId,
      securityGroupIds: [vpc.nodeGroupId],
      description: 'aws-k8s-trunk-eni',
      interfaceType: 'trunk',
      tags,
      clientToken: `kit-trunk-${instanceId}`,
    });
    const attachmentId = await this.prepare.attachNetworkInterface({
      networkInterfaceId: trunk.id,
      instanceId,
      deviceIndex: 2,
    });
    await this.prepare.setDeleteOnTermination({
      networkInterfaceId: trunk.id,
      attachmentId,
      deleteOnTermination: true,
    });
    return trunk.id;
  }

  /** CreateSecurityGroup in `vpc`, as a user would (EC2's name rules hold); returns the group's id. */
  async createSecurityGroup(vpc: TestVpc, name: string, tags: Record<string, string> = {}): Promise<string> {
    const Tags: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const created = await this.client.send(
      new CreateSecurityGroupCommand({
        VpcId: vpc.vpcId,
        GroupName: name,
        Description: name,
        ...(Tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'security-group', Tags }] } : {}),
      }),
    );
    return created.GroupId ?? '';
  }

  /** DeleteSecurityGroup, as a user would: refused for a VPC's default group and for a group an ENI carries. */
  async deleteSecurityGroup(groupId: string): Promise<void> {
    await this.client.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
  }

  // ---- the port: every call logged, scripted failures first ----

  #call<T>(method: Ec2Method, input: unknown, run: () => Promise<T>): Promise<T> {
    this.calls.push({ method, input });
    const failure = this.#failures.get(method)?.shift();
    if (failure !== undefined) return Promise.reject(failure);
    return run();
  }

  describeInstance(instanceId: string, options?: CallOptions) {
    return this.#call('describeInstance', instanceId, () => this.prepare.describeInstance(instanceId, options));
  }
  describeInstanceTypes(instanceTypes: string[], options?: CallOptions) {
    return this.#call('describeInstanceTypes', instanceTypes, () =>
      this.prepare.describeInstanceTypes(instanceTypes, options),
    );
  }
  describeSubnets(filter: Parameters<Ec2Api['describeSubnets']>[0], options?: CallOptions) {
    return this.#call('describeSubnets', filter, () => this.prepare.describeSubnets(filter, options));
  }
  describeVpc(vpcId: string, options?: CallOptions) {
    return this.#call('describeVpc', vpcId, () => this.prepare.describeVpc(vpcId, options));
  }
  describeSecurityGroups(groupIds: string[], vpcId?: string, options?: CallOptions) {
    return this.#call('describeSecurityGroups', { groupIds, vpcId }, () =>
      this.prepare.describeSecurityGroups(groupIds, vpcId, options),
    );
  }
  describeSecurityGroupsByTag(filter: Parameters<Ec2Api['describeSecurityGroupsByTag']>[0], options?: CallOptions) {
    return this.#call('describeSecurityGroupsByTag', filter, () =>
      this.prepare.describeSecurityGroupsByTag(filter, options),
    );
  }
  describeVpcSecurityGroups(vpcId: string, options?: CallOptions) {
    return this.#call('describeVpcSecurityGroups', vpcId, () => this.prepare.describeVpcSecurityGroups(vpcId, options));
  }
  describeNetworkInterfaces(filter: Parameters<Ec2Api['describeNetworkInterfaces']>[0], options?: CallOptions) {
    return this.#call('describeNetworkInterfaces', filter, () =>
      this.prepare.describeNetworkInterfaces(filter, options),
    );
  }
  createNetworkInterface(input: Parameters<Ec2Api['createNetworkInterface']>[0], options?: CallOptions) {
    return this.#call('createNetworkInterface', input, () => this.prepare.createNetworkInterface(input, options));
  }
  attachNetworkInterface(input: Parameters<Ec2Api['attachNetworkInterface']>[0], options?: CallOptions) {
    return this.#call('attachNetworkInterface', input, () => this.prepare.attachNetworkInterface(input, options));
  }
  detachNetworkInterface(input: Parameters<Ec2Api['detachNetworkInterface']>[0], options?: CallOptions) {
    return this.#call('detachNetworkInterface', input, () => this.prepare.detachNetworkInterface(input, options));
  }
  setDeleteOnTermination(input: Parameters<Ec2Api['setDeleteOnTermination']>[0], options?: CallOptions) {
    return this.#call('setDeleteOnTermination', input, () => this.prepare.setDeleteOnTermination(input, options));
  }
  setSecurityGroups(input: Parameters<Ec2Api['setSecurityGroups']>[0], options?: CallOptions) {
    return this.#call('setSecurityGroups', input, () => this.prepare.setSecurityGroups(input, options));
  }
  deleteNetworkInterface(networkInterfaceId: string, options?: CallOptions) {
    return this.#call('deleteNetworkInterface', networkInterfaceId, () =>
      this.prepare.deleteNetworkInterface(networkInterfaceId, options),
    );
  }
  associateTrunkInterface(input: Parameters<Ec2Api['associateTrunkInterface']>[0], options?: CallOptions) {
    return this.#call('associateTrunkInterface', input, () => this.prepare.associateTrunkInterface(input, options));
  }
  disassociateTrunkInterface(input: Parameters<Ec2Api['disassociateTrunkInterface']>[0], options?: CallOptions) {
    return this.#call('disassociateTrunkInterface', input, () =>
      this.prepare.disassociateTrunkInterface(input, options),
    );
  }
  describeTrunkInterfaceAssociations(
    filter: Parameters<Ec2Api['describeTrunkInterfaceAssociations']>[0],
    options?: CallOptions,
  ) {
    return this.#call('describeTrunkInterfaceAssociations', filter, () =>
      this.prepare.describeTrunkInterfaceAssociations(filter, options),
    );
  }
  createTags(resourceIds: string[], tags: Record<string, string>, options?: CallOptions) {
    return this.#call('createTags', { resourceIds, tags }, () => this.prepare.createTags(resourceIds, tags, options));
  }
  deleteTags(resourceIds: string[], tagKeys: string[], options?: CallOptions) {
    return this.#call('deleteTags', { resourceIds, tagKeys }, () =>
      this.prepare.deleteTags(resourceIds, tagKeys, options),
    );
  }
  createNetworkInterfacePermission(
    input: Parameters<Ec2Api['createNetworkInterfacePermission']>[0],
    options?: CallOptions,
  ) {
    return this.#call('createNetworkInterfacePermission', input, () =>
      this.prepare.createNetworkInterfacePermission(input, options),
    );
  }
}
