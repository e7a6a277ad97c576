/**
 * In-memory Ec2Api for the branch and policy reconciler tests: ENIs, trunk associations and security
 * groups, idempotent ClientTokens as EC2 honours them, recorded calls, and programmable failures.
 */
import type {
  CreateNetworkInterfaceInput,
  Ec2Api,
  NetworkInterface,
  NetworkInterfaceFilter,
  SecurityGroup,
  TrunkAssociation,
} from '../../../../operator/aws/index.ts';
import { Ec2NotFoundError } from '../../../../operator/aws/index.ts';

type Method = keyof Ec2Api;

export class PodsFakeEc2 implements Ec2Api {
  readonly enis = new Map<string, NetworkInterface>();
  readonly associations = new Map<string, TrunkAssociation>();
  readonly groups = new Map<string, SecurityGroup>();
  /** Group id → its EC2 tags (for describeSecurityGroupsByTag). */
  readonly groupTags = new Map<string, Record<string, string>>();
  readonly calls: { method: Method; input: unknown }[] = [];
  readonly #failures = new Map<Method, Error[]>();
  readonly #tokens = new Map<string, string>();
  #next = 1;

  addGroup(id: string, vpcId = 'vpc-1', tags: Record<string, string> = {}): void {
    this.groups.set(id, { id, vpcId, name: id });
    this.groupTags.set(id, tags);
  }

  failNext(method: Method, error: Error, times = 1): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), ...Array.from({ length: times }, () => error)]);
  }

  callsOf(method: Method): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.input);
  }

  reset(): void {
    this.calls.length = 0;
    this.#failures.clear();
  }

  #enter(method: Method, input: unknown): void {
    this.calls.push({ method, input });
    const error = this.#failures.get(method)?.shift();
    if (error) throw error;
  }

  async createNetworkInterface(input: CreateNetworkInterfaceInput): Promise<NetworkInterface> {
    this.#enter('createNetworkInterface', input);
    const existing = this.#tokens.get(input.clientToken);
    if (existing !== undefined && this.enis.has(existing))
      return structuredClone(this.enis.get(existing) as NetworkInterface);
    const n = this.#next++;
    const eni: NetworkInterface = {
      id: `eni-${String(n).padStart(17, '0')}`,
      subnetId: input.subnetId,
      vpcId: 'vpc-1',
      availabilityZone: 'us-west-2a',
      description: input.description,
      interfaceType: 'interface',
      status: 'available',
      macAddress: `0e:00:00:00:00:${n.toString(16).padStart(2, '0')}`,
      privateIpAddress: `10.0.0.${n + 10}`,
      ipv6Address: '',
      securityGroupIds: [...input.securityGroupIds],
      tags: { ...input.tags },
    };
    this.enis.set(eni.id, eni);
    this.#tokens.set(input.clientToken, eni.id);
    return structuredClone(eni);
  }

  async associateTrunkInterface(input: {
    branchInterfaceId: string;
    trunkInterfaceId: string;
    vlanId: number;
    clientToken: string;
  }): Promise<TrunkAssociation> {
    this.#enter('associateTrunkInterface', input);
    const existing = [...this.associations.values()].find((a) => a.branchInterfaceId === input.branchInterfaceId);
    if (existing) return { ...existing };
    const association: TrunkAssociation = {
      associationId: `trunk-assoc-${this.#next++}`,
      branchInterfaceId: input.branchInterfaceId,
      trunkInterfaceId: input.trunkInterfaceId,
      vlanId: input.vlanId,
    };
    this.associations.set(association.associationId, association);
    const eni = this.enis.get(input.branchInterfaceId);
    if (eni) eni.status = 'in-use';
    return { ...association };
  }

  async disassociateTrunkInterface(input: { associationId: string; clientToken: string }): Promise<void> {
    this.#enter('disassociateTrunkInterface', input);
    if (!this.associations.delete(input.associationId)) {
      throw new Ec2NotFoundError('association not found', {
        code: 'InvalidAssociationID.NotFound',
        action: 'DisassociateTrunkInterface',
      });
    }
  }

  /** As EC2 does by default, deleting a branch drops its trunk association. */
  async deleteNetworkInterface(id: string): Promise<void> {
    this.#enter('deleteNetworkInterface', id);
    if (!this.enis.delete(id)) {
      throw new Ec2NotFoundError('eni not found', {
        code: 'InvalidNetworkInterfaceID.NotFound',
        action: 'DeleteNetworkInterface',
      });
    }
    for (const [associationId, association] of this.associations) {
      if (association.branchInterfaceId === id) this.associations.delete(associationId);
    }
  }

  async setSecurityGroups(input: { networkInterfaceId: string; securityGroupIds: string[] }): Promise<void> {
    this.#enter('setSecurityGroups', input);
    const eni = this.enis.get(input.networkInterfaceId);
    if (!eni)
      throw new Ec2NotFoundError('eni not found', {
        code: 'InvalidNetworkInterfaceID.NotFound',
        action: 'ModifyNetworkInterfaceAttribute',
      });
    eni.securityGroupIds = [...input.securityGroupIds];
  }

  async describeSecurityGroups(groupIds: string[], vpcId?: string): Promise<SecurityGroup[]> {
    this.#enter('describeSecurityGroups', { groupIds, vpcId });
    return groupIds.flatMap((id) => {
      const group = this.groups.get(id);
      return group && (vpcId === undefined || group.vpcId === vpcId) ? [{ ...group }] : [];
    });
  }

  async describeSecurityGroupsByTag(filter: {
    vpcId: string;
    key: string;
    values?: string[];
  }): Promise<SecurityGroup[]> {
    this.#enter('describeSecurityGroupsByTag', filter);
    return [...this.groups.values()]
      .filter((group) => group.vpcId === filter.vpcId)
      .filter((group) => {
        const value = this.groupTags.get(group.id)?.[filter.key];
        return value !== undefined && (!filter.values?.length || filter.values.includes(value));
      })
      .map((group) => ({ ...group }));
  }

  async createNetworkInterfacePermission(input: { networkInterfaceId: string; awsAccountId: string }): Promise<void> {
    this.#enter('createNetworkInterfacePermission', input);
  }

  /** Every ENI, except that explicit ids select those ids and fail as EC2 does when one does not exist. */
  async describeNetworkInterfaces(filter: NetworkInterfaceFilter = {}): Promise<NetworkInterface[]> {
    this.#enter('describeNetworkInterfaces', filter);
    if (filter.ids?.length) {
      const missing = filter.ids.filter((id) => !this.enis.has(id));
      if (missing.length > 0) {
        throw new Ec2NotFoundError(`The networkInterface ID '${missing.join(', ')}' does not exist`, {
          code: 'InvalidNetworkInterfaceID.NotFound',
          action: 'DescribeNetworkInterfaces',
        });
      }
      return filter.ids.map((id) => structuredClone(this.enis.get(id) as NetworkInterface));
    }
    return [...this.enis.values()].map((eni) => structuredClone(eni));
  }

  async describeTrunkInterfaceAssociations(): Promise<TrunkAssociation[]> {
    this.#enter('describeTrunkInterfaceAssociations', {});
    return [...this.associations.values()];
  }

  async describeInstance(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async describeInstanceTypes(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async describeSubnets(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async describeVpc(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async attachNetworkInterface(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async detachNetworkInterface(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async setDeleteOnTermination(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
  async createTags(resourceIds: string[], tags: Record<string, string>): Promise<void> {
    this.#enter('createTags', { resourceIds, tags });
    for (const id of resourceIds) {
      const eni = this.enis.get(id);
      if (eni) eni.tags = { ...eni.tags, ...tags };
    }
  }
  async deleteTags(): Promise<never> {
    throw new Error('not used by the pod, branch and policy controllers');
  }
}
