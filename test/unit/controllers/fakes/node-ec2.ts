/**
 * An in-memory Ec2Api for the node and trunk reconciler tests: instances, ENIs, attachments, trunk
 * associations and subnets, ClientToken idempotency (a reused token returns the first ENI even after it was
 * deleted, as EC2 does), scripted failures per method, and a log of every call.
 */
import type {
  Ec2Api,
  Instance,
  NetworkInterface,
  NetworkInterfaceFilter,
  Subnet,
  TrunkAssociation,
} from '../../../../operator/aws/index.ts';
import { Ec2NotFoundError } from '../../../../operator/aws/index.ts';

type Method = keyof Ec2Api;

export class NodeFakeEc2 implements Ec2Api {
  readonly instances = new Map<string, Instance>();
  readonly enis = new Map<string, NetworkInterface>();
  readonly subnets = new Map<string, Subnet>();
  readonly associations = new Map<string, TrunkAssociation>();
  readonly calls: { method: Method; input: unknown }[] = [];
  readonly #tokens = new Map<string, NetworkInterface>();
  readonly #failures = new Map<Method, Error[]>();
  #next = 1;

  /** The next `times` calls of `method` reject with `error`. */
  failNext(method: Method, error: Error, times = 1): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), ...Array<Error>(times).fill(error)]);
  }

  callsOf(method: Method): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.input);
  }

  addInstance(id: string, groups: string[]): Instance {
    const subnet: Subnet = {
      id: 'subnet-1',
      vpcId: 'vpc-1',
      availabilityZone: 'us-west-2a',
      cidrBlock: '10.0.0.0/24',
      ipv6CidrBlock: '',
      availableIpAddressCount: 250,
      tags: {},
    };
    this.subnets.set(subnet.id, subnet);
    const instance: Instance = {
      id,
      instanceType: 'm5.large',
      state: 'running',
      subnetId: subnet.id,
      vpcId: 'vpc-1',
      availabilityZone: 'us-west-2a',
      privateIpAddress: '10.0.0.10',
      networkInterfaces: [
        {
          id: `eni-primary-${id}`,
          deviceIndex: 0,
          networkCardIndex: 0,
          interfaceType: 'interface',
          securityGroupIds: groups,
          subnetId: subnet.id,
          privateIpAddress: '10.0.0.10',
        },
      ],
    };
    this.instances.set(id, instance);
    return instance;
  }

  #enter(method: Method, input: unknown): void {
    this.calls.push({ method, input });
    const failure = this.#failures.get(method)?.shift();
    if (failure !== undefined) throw failure;
  }

  async describeInstance(instanceId: string): Promise<Instance> {
    this.#enter('describeInstance', instanceId);
    const instance = this.instances.get(instanceId);
    if (instance === undefined)
      throw new Ec2NotFoundError(`instance ${instanceId}`, {
        code: 'InvalidInstanceID.NotFound',
        action: 'DescribeInstances',
      });
    const attached = [...this.enis.values()].filter((eni) => eni.attachment?.instanceId === instanceId);
    return structuredClone({
      ...instance,
      networkInterfaces: [
        ...instance.networkInterfaces,
        ...attached.map((eni) => ({
          id: eni.id,
          deviceIndex: eni.attachment?.deviceIndex ?? 0,
          networkCardIndex: 0,
          interfaceType: eni.interfaceType,
          securityGroupIds: eni.securityGroupIds,
          subnetId: eni.subnetId,
          privateIpAddress: eni.privateIpAddress,
        })),
      ],
    });
  }

  async describeNetworkInterfaces(filter: NetworkInterfaceFilter): Promise<NetworkInterface[]> {
    this.#enter('describeNetworkInterfaces', filter);
    return [...this.enis.values()]
      .filter((eni) => filter.ids === undefined || filter.ids.includes(eni.id))
      .filter((eni) => filter.interfaceType === undefined || filter.interfaceType.includes(eni.interfaceType))
      .filter((eni) => filter.status === undefined || filter.status.includes(eni.status))
      .filter((eni) =>
        Object.entries(filter.tags ?? {}).every(
          ([key, values]) =>
            eni.tags[key] !== undefined && (values.includes('*') || values.includes(eni.tags[key] ?? '')),
        ),
      )
      .map((eni) => structuredClone(eni));
  }

  async createNetworkInterface(input: Parameters<Ec2Api['createNetworkInterface']>[0]): Promise<NetworkInterface> {
    this.#enter('createNetworkInterface', input);
    const known = this.#tokens.get(input.clientToken);
    if (known !== undefined) return structuredClone(known);
    const eni: NetworkInterface = {
      id: `eni-${String(this.#next++).padStart(4, '0')}`,
      subnetId: input.subnetId,
      vpcId: 'vpc-1',
      availabilityZone: 'us-west-2a',
      description: input.description,
      interfaceType: input.interfaceType ?? 'interface',
      status: 'available',
      macAddress: '02:00:00:00:00:01',
      privateIpAddress: `10.0.0.${this.#next + 100}`,
      ipv6Address: '',
      securityGroupIds: input.securityGroupIds,
      tags: input.tags,
    };
    this.enis.set(eni.id, eni);
    this.#tokens.set(input.clientToken, eni);
    return structuredClone(eni);
  }

  async attachNetworkInterface(input: Parameters<Ec2Api['attachNetworkInterface']>[0]): Promise<string> {
    this.#enter('attachNetworkInterface', input);
    const eni = this.#eni(input.networkInterfaceId, 'AttachNetworkInterface');
    const attachmentId = `eni-attach-${this.#next++}`;
    eni.status = 'in-use';
    eni.attachment = {
      attachmentId,
      instanceId: input.instanceId,
      deviceIndex: input.deviceIndex,
      networkCardIndex: input.networkCardIndex ?? 0,
      status: 'attached',
      deleteOnTermination: false,
    };
    return attachmentId;
  }

  async setDeleteOnTermination(input: Parameters<Ec2Api['setDeleteOnTermination']>[0]): Promise<void> {
    this.#enter('setDeleteOnTermination', input);
    const eni = this.#eni(input.networkInterfaceId, 'ModifyNetworkInterfaceAttribute');
    if (eni.attachment) eni.attachment.deleteOnTermination = input.deleteOnTermination;
  }

  async deleteNetworkInterface(id: string): Promise<void> {
    this.#enter('deleteNetworkInterface', id);
    this.#eni(id, 'DeleteNetworkInterface');
    this.enis.delete(id);
    for (const [assocId, assoc] of this.associations)
      if (assoc.branchInterfaceId === id) this.associations.delete(assocId);
  }

  async describeSubnets(filter: { ids?: string[] }): Promise<Subnet[]> {
    this.#enter('describeSubnets', filter);
    return [...this.subnets.values()].filter((s) => filter.ids === undefined || filter.ids.includes(s.id));
  }

  async describeTrunkInterfaceAssociations(filter: { trunkInterfaceId?: string }): Promise<TrunkAssociation[]> {
    this.#enter('describeTrunkInterfaceAssociations', filter);
    return [...this.associations.values()].filter(
      (a) => filter.trunkInterfaceId === undefined || a.trunkInterfaceId === filter.trunkInterfaceId,
    );
  }

  async associateTrunkInterface(input: Parameters<Ec2Api['associateTrunkInterface']>[0]): Promise<TrunkAssociation> {
    this.#enter('associateTrunkInterface', input);
    const association = {
      associationId: `trunk-assoc-${this.#next++}`,
      branchInterfaceId: input.branchInterfaceId,
      trunkInterfaceId: input.trunkInterfaceId,
      vlanId: input.vlanId,
    };
    this.associations.set(association.associationId, association);
    return association;
  }

  async disassociateTrunkInterface(input: { associationId: string }): Promise<void> {
    this.#enter('disassociateTrunkInterface', input);
    if (!this.associations.delete(input.associationId))
      throw new Ec2NotFoundError('association', {
        code: 'InvalidAssociationID.NotFound',
        action: 'DisassociateTrunkInterface',
      });
  }

  async createNetworkInterfacePermission(input: { networkInterfaceId: string; awsAccountId: string }): Promise<void> {
    this.#enter('createNetworkInterfacePermission', input);
  }

  async describeInstanceTypes(): Promise<never> {
    throw new Error('describeInstanceTypes is not used by these tests');
  }
  async describeVpc(): Promise<never> {
    throw new Error('describeVpc is not used by these tests');
  }
  async describeSecurityGroups(): Promise<never> {
    throw new Error('describeSecurityGroups is not used by these tests');
  }
  async describeSecurityGroupsByTag(): Promise<never> {
    throw new Error('describeSecurityGroupsByTag is not used by these tests');
  }
  async detachNetworkInterface(): Promise<never> {
    throw new Error('detachNetworkInterface must never be called on a trunk');
  }
  async setSecurityGroups(): Promise<never> {
    throw new Error('setSecurityGroups is not used by these tests');
  }
  async createTags(): Promise<never> {
    throw new Error('createTags is not used by these tests');
  }
  async deleteTags(): Promise<never> {
    throw new Error('deleteTags is not used by these tests');
  }

  #eni(id: string, action: string): NetworkInterface {
    const eni = this.enis.get(id);
    if (eni === undefined)
      throw new Ec2NotFoundError(`eni ${id}`, { code: 'InvalidNetworkInterfaceID.NotFound', action });
    return eni;
  }
}
