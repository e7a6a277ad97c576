/**
 * {@link Ec2Api} over the real @aws-sdk/client-ec2, aimed at AWS or at hack/ec2-emulator through its
 * endpoint. Domain types in and out, pagination loops inside, every failure classified (ec2-errors.ts),
 * one OpenTelemetry span and one set of metrics per port call, and every HTTP request reported to a
 * {@link RequestObserver} so the rate limiter counts pages and SDK retries too.
 *
 * Retries are the SDK's (standard or adaptive mode, `maxAttempts` on the client). ClientToken is serialised
 * before the SDK's retry loop, so every retry of one send() carries the same token (docs/ec2-semantics.md#client-tokens, checked in
 * test/integration/aws); a retry after the SDK gave up is the caller's and must reuse its token too.
 *
 * Describes use filters rather than explicit ids: one unknown id would fail the whole call (docs/ec2-semantics.md#describes), and
 * an empty id list would silently describe everything (docs/ec2-semantics.md#describes).
 */
import {
  AssociateTrunkInterfaceCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateNetworkInterfacePermissionCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTrunkInterfaceAssociationsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  DisassociateTrunkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type {
  CallOptions,
  CreateNetworkInterfaceInput,
  Ec2Api,
  Instance,
  InstanceTypeNetworkInfo,
  NetworkInterface,
  NetworkInterfaceFilter,
  SecurityGroup,
  Subnet,
  Tags,
  TrunkAssociation,
  Vpc,
} from './ec2-api.ts';
import { classifyEc2Error, codeLabel, Ec2Error, Ec2NotFoundError } from './ec2-errors.ts';
import {
  networkInterfaceFilters,
  tagFilters,
  toInstance,
  toInstanceTypeNetworkInfo,
  toNetworkInterface,
  toSdkConnectionTracking,
  toSdkTags,
  toSecurityGroup,
  toSubnet,
  toTrunkAssociation,
  toVpc,
} from './sdk-mapping.ts';
import type { RequestObserver } from './rate-limiter.ts';
import { observeRequests } from './sdk-request-observer.ts';
import { ec2CallDurationSeconds, ec2CallsTotal, ec2ErrorsTotal } from '../observability/metrics.ts';

export interface SdkEc2ApiOptions {
  /** Client for everything (the operator's default identity). */
  client: EC2Client;
  /** Client for AssociateTrunkInterface, DisassociateTrunkInterface, DescribeTrunkInterfaceAssociations; defaults to `client`. */
  trunkClient?: EC2Client;
  /** Told about every HTTP request sent (the rate limiter's accounting). */
  observer?: RequestObserver;
}

/** EC2 caps filter values per filter at 200 and resource ids per CreateTags/DeleteTags at 1000. */
const FILTER_VALUES_MAX = 200;
const TAG_RESOURCES_MAX = 1000;

const tracer = trace.getTracer('sgp-operator/aws');

/** Anything carrying SDK `$metadata` (outputs and errors). */
interface WithMetadata {
  $metadata?: { requestId?: string };
}

export class SdkEc2Api implements Ec2Api {
  private readonly client: EC2Client;
  private readonly trunkClient: EC2Client;
  private readonly observer: RequestObserver | undefined;

  constructor(options: SdkEc2ApiOptions) {
    this.client = options.client;
    this.trunkClient = options.trunkClient ?? options.client;
    this.observer = options.observer;
    observeRequests(this.client, options.observer);
    if (this.trunkClient !== this.client) observeRequests(this.trunkClient, options.observer);
  }

  /** Closes the clients' keep-alive sockets (shutdown, tests). */
  destroy(): void {
    this.client.destroy();
    if (this.trunkClient !== this.client) this.trunkClient.destroy();
  }

  describeInstance(instanceId: string, options?: CallOptions): Promise<Instance> {
    return this.call('DescribeInstances', options, async (signal, requestIds) => {
      const instances = await this.pages(
        signal,
        requestIds,
        (NextToken) =>
          this.client.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: 'instance-id', Values: [instanceId] }],
              MaxResults: 5,
              NextToken,
            }),
            { abortSignal: signal },
          ),
        (out) => (out.Reservations ?? []).flatMap((r) => r.Instances ?? []),
      );
      const found = instances.find((i) => i.InstanceId === instanceId);
      if (found === undefined) {
        throw new Ec2NotFoundError(`EC2 instance ${instanceId} does not exist (terminated, or not yet visible)`, {
          code: 'InvalidInstanceID.NotFound',
          action: 'DescribeInstances',
        });
      }
      return toInstance(found);
    });
  }

  describeInstanceTypes(instanceTypes: string[], options?: CallOptions): Promise<InstanceTypeNetworkInfo[]> {
    if (instanceTypes.length === 0) return Promise.resolve([]);
    return this.call('DescribeInstanceTypes', options, async (signal, requestIds) => {
      // A filter, not InstanceType.N: unknown types are then absent instead of failing the call (InvalidInstanceType).
      const infos = await this.pages(
        signal,
        requestIds,
        (NextToken) =>
          this.client.send(
            new DescribeInstanceTypesCommand({
              Filters: [{ Name: 'instance-type', Values: instanceTypes }],
              MaxResults: 100,
              NextToken,
            }),
            { abortSignal: signal },
          ),
        (out) => out.InstanceTypes ?? [],
      );
      return infos.map(toInstanceTypeNetworkInfo);
    });
  }

  describeSubnets(
    filter: { ids?: string[]; vpcId?: string; tags?: Record<string, string[]>; tagKeys?: string[] },
    options?: CallOptions,
  ): Promise<Subnet[]> {
    if (filter.ids?.length === 0) return Promise.resolve([]);
    const filters: Filter[] = [...tagFilters(filter.tags)];
    if (filter.vpcId !== undefined) filters.push({ Name: 'vpc-id', Values: [filter.vpcId] });
    if (filter.tagKeys !== undefined) filters.push({ Name: 'tag-key', Values: filter.tagKeys });
    return this.call('DescribeSubnets', options, async (signal, requestIds) => {
      const subnets = await this.chunked(filter.ids, (ids) =>
        this.pages(
          signal,
          requestIds,
          (NextToken) =>
            this.client.send(
              new DescribeSubnetsCommand({
                Filters: [...filters, ...(ids === undefined ? [] : [{ Name: 'subnet-id', Values: ids }])],
                MaxResults: 1000,
                NextToken,
              }),
              { abortSignal: signal },
            ),
          (out) => out.Subnets ?? [],
        ),
      );
      return subnets.map(toSubnet);
    });
  }

  describeVpc(vpcId: string, options?: CallOptions): Promise<Vpc> {
    return this.call('DescribeVpcs', options, async (signal, requestIds) => {
      const out = await this.client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }), { abortSignal: signal });
      requestIds.push(out.$metadata.requestId);
      const vpc = out.Vpcs?.find((v) => v.VpcId === vpcId);
      if (vpc === undefined) {
        throw new Ec2NotFoundError(`EC2 VPC ${vpcId} does not exist`, {
          code: 'InvalidVpcID.NotFound',
          action: 'DescribeVpcs',
        });
      }
      return toVpc(vpc);
    });
  }

  describeSecurityGroups(groupIds: string[], vpcId?: string, options?: CallOptions): Promise<SecurityGroup[]> {
    if (groupIds.length === 0) return Promise.resolve([]);
    return this.call('DescribeSecurityGroups', options, async (signal, requestIds) => {
      const groups = await this.chunked(groupIds, (ids) =>
        this.pages(
          signal,
          requestIds,
          (NextToken) =>
            this.client.send(
              new DescribeSecurityGroupsCommand({
                Filters: [
                  { Name: 'group-id', Values: ids },
                  ...(vpcId === undefined ? [] : [{ Name: 'vpc-id', Values: [vpcId] }]),
                ],
                MaxResults: 1000,
                NextToken,
              }),
              { abortSignal: signal },
            ),
          (out) => out.SecurityGroups ?? [],
        ),
      );
      return groups.map(toSecurityGroup);
    });
  }

  describeSecurityGroupsByTag(
    filter: { vpcId: string; key: string; values?: string[] },
    options?: CallOptions,
  ): Promise<SecurityGroup[]> {
    const tagFilter =
      filter.values === undefined || filter.values.length === 0
        ? { Name: 'tag-key', Values: [filter.key] }
        : { Name: `tag:${filter.key}`, Values: filter.values };
    return this.describeVpcGroups(filter.vpcId, [tagFilter], options);
  }

  describeVpcSecurityGroups(vpcId: string, options?: CallOptions): Promise<SecurityGroup[]> {
    return this.describeVpcGroups(vpcId, [], options);
  }

  /** Every page of the VPC's security groups that also pass `filters`. */
  private describeVpcGroups(vpcId: string, filters: Filter[], options?: CallOptions): Promise<SecurityGroup[]> {
    return this.call('DescribeSecurityGroups', options, async (signal, requestIds) => {
      const groups = await this.pages(
        signal,
        requestIds,
        (NextToken) =>
          this.client.send(
            new DescribeSecurityGroupsCommand({
              Filters: [{ Name: 'vpc-id', Values: [vpcId] }, ...filters],
              MaxResults: 1000,
              NextToken,
            }),
            { abortSignal: signal },
          ),
        (out) => out.SecurityGroups ?? [],
      );
      return groups.map(toSecurityGroup);
    });
  }

  describeNetworkInterfaces(filter: NetworkInterfaceFilter, options?: CallOptions): Promise<NetworkInterface[]> {
    if (filter.ids?.length === 0) return Promise.resolve([]);
    const { ids, ...rest } = filter;
    return this.call('DescribeNetworkInterfaces', options, async (signal, requestIds) => {
      const enis = await this.chunked(ids, (chunk) =>
        this.pages(
          signal,
          requestIds,
          (NextToken) =>
            this.client.send(
              new DescribeNetworkInterfacesCommand({
                Filters: networkInterfaceFilters({ ...rest, ...(chunk === undefined ? {} : { ids: chunk }) }),
                MaxResults: 1000,
                NextToken,
              }),
              { abortSignal: signal },
            ),
          (out) => out.NetworkInterfaces ?? [],
        ),
      );
      return enis.map(toNetworkInterface);
    });
  }

  createNetworkInterface(input: CreateNetworkInterfaceInput, options?: CallOptions): Promise<NetworkInterface> {
    const isTrunkCall = input.interfaceType === 'trunk';
    return this.call(
      'CreateNetworkInterface',
      options,
      async (signal, requestIds) => {
        const out = await this.client.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: input.subnetId,
            Description: input.description,
            // An empty list would be dropped by the serializer anyway; omitting it lets EC2 apply the VPC default SG.
            ...(input.securityGroupIds.length === 0 ? {} : { Groups: input.securityGroupIds }),
            ...(input.interfaceType === undefined ? {} : { InterfaceType: input.interfaceType }),
            ...(input.ipv6AddressCount === undefined ? {} : { Ipv6AddressCount: input.ipv6AddressCount }),
            ...(input.connectionTracking === undefined
              ? {}
              : { ConnectionTrackingSpecification: toSdkConnectionTracking(input.connectionTracking) }),
            TagSpecifications: [{ ResourceType: 'network-interface', Tags: toSdkTags(input.tags) }],
            ClientToken: input.clientToken,
          }),
          { abortSignal: signal },
        );
        requestIds.push(out.$metadata.requestId);
        if (out.NetworkInterface === undefined) {
          throw new Ec2Error('EC2 CreateNetworkInterface returned no network interface', {
            code: 'EmptyResponse',
            action: 'CreateNetworkInterface',
          });
        }
        const eni = toNetworkInterface(out.NetworkInterface);
        return Object.keys(eni.tags).length === 0 ? { ...eni, tags: { ...input.tags } } : eni;
      },
      { isTrunkCall },
    );
  }

  attachNetworkInterface(
    input: { networkInterfaceId: string; instanceId: string; deviceIndex: number; networkCardIndex?: number },
    options?: CallOptions,
  ): Promise<string> {
    return this.call('AttachNetworkInterface', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: input.networkInterfaceId,
          InstanceId: input.instanceId,
          DeviceIndex: input.deviceIndex,
          NetworkCardIndex: input.networkCardIndex ?? 0,
        }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
      return out.AttachmentId ?? '';
    });
  }

  detachNetworkInterface(input: { attachmentId: string; force?: boolean }, options?: CallOptions): Promise<void> {
    return this.call('DetachNetworkInterface', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new DetachNetworkInterfaceCommand({ AttachmentId: input.attachmentId, Force: input.force ?? false }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  setDeleteOnTermination(
    input: { networkInterfaceId: string; attachmentId: string; deleteOnTermination: boolean },
    options?: CallOptions,
  ): Promise<void> {
    return this.call('ModifyNetworkInterfaceAttribute', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: input.networkInterfaceId,
          Attachment: { AttachmentId: input.attachmentId, DeleteOnTermination: input.deleteOnTermination },
        }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  setSecurityGroups(
    input: { networkInterfaceId: string; securityGroupIds: string[] },
    options?: CallOptions,
  ): Promise<void> {
    if (input.securityGroupIds.length === 0) {
      // EC2 needs at least one group; an empty list would be dropped and the call would change nothing.
      return Promise.reject(
        new Ec2Error(`cannot set an empty security group list on ${input.networkInterfaceId}`, {
          code: 'MissingParameter',
          action: 'ModifyNetworkInterfaceAttribute',
        }),
      );
    }
    return this.call('ModifyNetworkInterfaceAttribute', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: input.networkInterfaceId,
          Groups: input.securityGroupIds,
        }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  deleteNetworkInterface(networkInterfaceId: string, options?: CallOptions): Promise<void> {
    return this.call('DeleteNetworkInterface', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: networkInterfaceId }),
        {
          abortSignal: signal,
        },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  associateTrunkInterface(
    input: { branchInterfaceId: string; trunkInterfaceId: string; vlanId: number; clientToken: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation> {
    return this.call('AssociateTrunkInterface', options, async (signal, requestIds) => {
      const out = await this.trunkClient.send(
        new AssociateTrunkInterfaceCommand({
          BranchInterfaceId: input.branchInterfaceId,
          TrunkInterfaceId: input.trunkInterfaceId,
          VlanId: input.vlanId,
          ClientToken: input.clientToken,
        }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
      return toTrunkAssociation(out.InterfaceAssociation);
    });
  }

  disassociateTrunkInterface(
    input: { associationId: string; clientToken: string },
    options?: CallOptions,
  ): Promise<void> {
    return this.call('DisassociateTrunkInterface', options, async (signal, requestIds) => {
      const out = await this.trunkClient.send(
        new DisassociateTrunkInterfaceCommand({ AssociationId: input.associationId, ClientToken: input.clientToken }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  describeTrunkInterfaceAssociations(
    filter: { associationIds?: string[]; trunkInterfaceId?: string },
    options?: CallOptions,
  ): Promise<TrunkAssociation[]> {
    if (filter.associationIds?.length === 0) return Promise.resolve([]);
    return this.call('DescribeTrunkInterfaceAssociations', options, async (signal, requestIds) => {
      const filters: Filter[] =
        filter.trunkInterfaceId === undefined
          ? []
          : [{ Name: 'trunk-interface-association.trunk-interface-id', Values: [filter.trunkInterfaceId] }];
      const associations = await this.pages(
        signal,
        requestIds,
        (NextToken) =>
          this.trunkClient.send(
            new DescribeTrunkInterfaceAssociationsCommand({
              ...(filter.associationIds === undefined
                ? { MaxResults: 255 }
                : { AssociationIds: filter.associationIds }),
              ...(filters.length === 0 ? {} : { Filters: filters }),
              NextToken,
            }),
            { abortSignal: signal },
          ),
        (out) => out.InterfaceAssociations ?? [],
      );
      return associations.map(toTrunkAssociation);
    });
  }

  createTags(resourceIds: string[], tags: Tags, options?: CallOptions): Promise<void> {
    if (resourceIds.length === 0 || Object.keys(tags).length === 0) return Promise.resolve();
    return this.call('CreateTags', options, async (signal, requestIds) => {
      for (const chunk of chunks(resourceIds, TAG_RESOURCES_MAX)) {
        const out = await this.client.send(new CreateTagsCommand({ Resources: chunk, Tags: toSdkTags(tags) }), {
          abortSignal: signal,
        });
        requestIds.push(out.$metadata.requestId);
      }
    });
  }

  deleteTags(resourceIds: string[], tagKeys: string[], options?: CallOptions): Promise<void> {
    // DeleteTags without any Tag.N deletes every user tag: never send that.
    if (resourceIds.length === 0 || tagKeys.length === 0) return Promise.resolve();
    return this.call('DeleteTags', options, async (signal, requestIds) => {
      for (const chunk of chunks(resourceIds, TAG_RESOURCES_MAX)) {
        const out = await this.client.send(
          new DeleteTagsCommand({ Resources: chunk, Tags: tagKeys.map((Key) => ({ Key })) }),
          { abortSignal: signal },
        );
        requestIds.push(out.$metadata.requestId);
      }
    });
  }

  createNetworkInterfacePermission(
    input: { networkInterfaceId: string; awsAccountId: string },
    options?: CallOptions,
  ): Promise<void> {
    return this.call('CreateNetworkInterfacePermission', options, async (signal, requestIds) => {
      const out = await this.client.send(
        new CreateNetworkInterfacePermissionCommand({
          NetworkInterfaceId: input.networkInterfaceId,
          AwsAccountId: input.awsAccountId,
          Permission: 'INSTANCE-ATTACH',
        }),
        { abortSignal: signal },
      );
      requestIds.push(out.$metadata.requestId);
    });
  }

  /** One port call: span, metrics, error classification. `requestIds` collects the ids of the requests made. */
  private async call<T>(
    action: string,
    options: CallOptions | undefined,
    run: (signal: AbortSignal | undefined, requestIds: (string | undefined)[]) => Promise<T>,
    context: { isTrunkCall?: boolean } = {},
  ): Promise<T> {
    return tracer.startActiveSpan(
      `EC2.${action}`,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'EC2', 'rpc.method': action } },
      async (span) => {
        const started = performance.now();
        const requestIds: (string | undefined)[] = [];
        try {
          const result = await run(options?.signal, requestIds);
          ec2CallsTotal.inc({ action, result: 'success' });
          return result;
        } catch (raw) {
          requestIds.push((raw as WithMetadata | undefined)?.$metadata?.requestId);
          const err = classifyEc2Error(raw, action, context);
          ec2CallsTotal.inc({ action, result: 'error' });
          if (err instanceof Ec2Error) {
            ec2ErrorsTotal.inc({ action, error_class: err.errorClass, code: codeLabel(err.code) });
          }
          span.recordException(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          throw err;
        } finally {
          const lastRequestId = requestIds.filter((id) => id !== undefined).at(-1);
          if (lastRequestId !== undefined) span.setAttribute('aws.request_id', lastRequestId);
          ec2CallDurationSeconds.observe({ action }, (performance.now() - started) / 1000);
          span.end();
        }
      },
    );
  }

  /**
   * Follows NextToken until EC2 stops sending one (pages may be short or even empty). Every request after the
   * call's first (a further page, or the first page of a further chunk) waits for its own rate-limit token.
   */
  private async pages<O extends WithMetadata & { NextToken?: string }, I>(
    signal: AbortSignal | undefined,
    requestIds: (string | undefined)[],
    fetch: (nextToken: string | undefined) => Promise<O>,
    items: (out: O) => I[],
  ): Promise<I[]> {
    const result: I[] = [];
    let nextToken: string | undefined;
    do {
      signal?.throwIfAborted();
      if (requestIds.length > 0) await this.observer?.beforeFurtherRequest();
      const out = await fetch(nextToken);
      requestIds.push(out.$metadata?.requestId);
      result.push(...items(out));
      nextToken = out.NextToken === '' ? undefined : out.NextToken;
    } while (nextToken !== undefined);
    return result;
  }

  /** Runs `run` once per chunk of at most 200 filter values, or once with `undefined` when there are no ids. */
  private async chunked<T>(ids: string[] | undefined, run: (ids: string[] | undefined) => Promise<T[]>): Promise<T[]> {
    if (ids === undefined) return run(undefined);
    const result: T[] = [];
    for (const chunk of chunks([...new Set(ids)], FILTER_VALUES_MAX)) result.push(...(await run(chunk)));
    return result;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
