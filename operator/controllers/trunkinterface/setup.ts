/**
 * Bringing a node's trunk ENI up (anchor study §3.2): gather what EC2 says, ask the pure plan for the next
 * step, do it, record it in status before the next EC2 call, repeat. Waiting (instance pending, attachment
 * in progress) returns requeueAfterMs instead of sleeping.
 *
 * No orphans: every ENI we create carries our tags (owner, cluster, instance, node), so a crash right after
 * CreateNetworkInterface is found again by tag on the next pass and attached (or deleted as a stray). When a
 * step after the create fails, the unattached ENI is deleted before the error goes up. The ClientToken is
 * derived from the TrunkInterface UID and the attempt number kept in an annotation: after we delete a failed
 * attempt's ENI, the next create must use a new token, because EC2 answers a reused token with the first
 * (now deleted) ENI for at least 24 hours.
 */
import { ENI_OWNER, TAG, TRUNK_ENI_DESCRIPTION } from '../../api/constants.ts';
import { Kinds } from '../../api/kinds.ts';
import type { TrunkInterface } from '../../api/types.ts';
import type { CallOptions, Ec2Api, NetworkInterface, Subnet } from '../../aws/index.ts';
import { Ec2Error, Ec2NotFoundError, ignoreNotFound, isRetryable } from '../../aws/index.ts';
import { clientToken, trunkEniTags, trunkEnisFilter } from '../../aws/index.ts';
import type { ClusterSettings } from '../deps.ts';
import type { KubeClient, ReconcileContext } from '../../framework/types.ts';
import type { InstanceTypeLimits } from '../../limits/index.ts';
import { OutsideFixError, withContext } from '../../errors.ts';
import { attachedTrunkId, nextTrunkStep, type TrunkFacts } from './plan.ts';
import { withoutEni, withProgress, type TrunkStatus } from './status.ts';
import type { TrunkEvents } from './events.ts';

/** Annotation counting failed create attempts whose ENI we deleted; part of the create ClientToken. */
export const CREATE_ATTEMPT_ANNOTATION = 'trunking.sgp-operator.io/trunk-create-attempt';

/** Polling while EC2 attaches: 1 s doubling to 30 s (EKS polls 1 s ×2 for 7 steps). */
export const ATTACH_POLL_BASE_MS = 1_000;
export const ATTACH_POLL_MAX_MS = 30_000;
/** Waiting for an instance to run. (A slot, quota or permission the user must fix: OutsideFixError.) */
export const INSTANCE_WAIT_MS = 15_000;
/** Upper bound on steps in one reconcile (create, attach, DoT, re-describe, subnet, ready, strays). */
const MAX_STEPS = 12;

export interface SetupDeps {
  ec2: Ec2Api;
  client: KubeClient;
  cluster: ClusterSettings;
  events: TrunkEvents;
  nowIso: () => string;
}

export interface SetupResult {
  trunk: TrunkInterface;
  status: TrunkStatus;
  requeueAfterMs?: number;
  /** The error to throw after status is written (retry with back-off). */
  error?: Error;
}

/** Writes status now (progress must be on record before the next EC2 call); returns the object as written. */
export type StatusWriter = (trunk: TrunkInterface, status: TrunkStatus) => Promise<TrunkInterface>;

export async function setUpTrunk(
  deps: SetupDeps,
  initial: TrunkInterface,
  limits: InstanceTypeLimits,
  writeStatus: StatusWriter,
  context: ReconcileContext,
  pollAttempt: number,
): Promise<SetupResult> {
  const call: CallOptions = { signal: context.signal, priority: 'critical' };
  const nodeName = initial.spec.nodeName;
  let trunk = initial;
  let status: TrunkStatus = initial.status ?? {};
  const facts = await gather(deps, trunk, limits, call);
  if (facts === undefined) {
    status = withProgress(
      trunk,
      status,
      {
        state: 'Pending',
        reason: 'InstanceNotFound',
        message: `instance ${trunk.spec.instanceId} of node ${nodeName} does not exist in EC2; waiting for it (or for the node to be deleted)`,
      },
      deps.nowIso(),
    );
    const error = new OutsideFixError(`instance ${trunk.spec.instanceId} of node ${nodeName} does not exist in EC2`);
    return { trunk, status, error };
  }
  let redescribed = false;

  for (let i = 0; i < MAX_STEPS; i++) {
    const step = nextTrunkStep(facts);
    switch (step.kind) {
      case 'wait-instance':
        status = withProgress(
          trunk,
          status,
          { state: 'Pending', reason: 'InstanceNotRunning', message: step.message },
          deps.nowIso(),
        );
        return { trunk, status, requeueAfterMs: INSTANCE_WAIT_MS };

      case 'delete-stray':
        await deps.ec2.deleteNetworkInterface(step.eniId, call).catch(ignoreNotFound);
        context.log.info('deleted stray trunk eni', { eni: step.eniId });
        facts.strays = facts.strays.filter((id) => id !== step.eniId);
        break;

      case 'create': {
        status = withProgress(
          trunk,
          status,
          { state: 'Creating', reason: 'Creating', message: step.message },
          deps.nowIso(),
        );
        let created: NetworkInterface;
        try {
          created = await deps.ec2.createNetworkInterface(
            {
              subnetId: step.subnetId,
              securityGroupIds: step.securityGroupIds,
              description: TRUNK_ENI_DESCRIPTION,
              interfaceType: 'trunk',
              tags: trunkEniTags({
                clusterName: deps.cluster.clusterName,
                instanceId: trunk.spec.instanceId,
                nodeName,
              }),
              clientToken: clientToken('trunk', trunk.metadata.uid ?? '', createAttempt(trunk)),
            },
            call,
          );
        } catch (error) {
          return failed(deps, trunk, status, error, 'creating the trunk ENI');
        }
        context.log.info('created trunk eni', { eni: created.id, subnet: created.subnetId });
        facts.trunk = created;
        status = withProgress(
          trunk,
          status,
          {
            state: 'Attaching',
            reason: 'Attaching',
            message: `attaching trunk ENI ${created.id} to ${trunk.spec.instanceId}`,
          },
          deps.nowIso(),
          {
            eniId: created.id,
            subnetId: created.subnetId,
            availabilityZone: created.availabilityZone,
            securityGroups: [...created.securityGroupIds].sort(),
          },
        );
        trunk = await writeStatus(trunk, status);
        break;
      }

      case 'attach': {
        let attachmentId: string;
        try {
          if (deps.cluster.trunkAssociationAccountId !== undefined) {
            await deps.ec2.createNetworkInterfacePermission(
              { networkInterfaceId: step.eniId, awsAccountId: deps.cluster.trunkAssociationAccountId },
              call,
            );
          }
          attachmentId = await deps.ec2.attachNetworkInterface(
            {
              networkInterfaceId: step.eniId,
              instanceId: trunk.spec.instanceId,
              deviceIndex: step.deviceIndex,
              networkCardIndex: step.networkCardIndex,
            },
            call,
          );
        } catch (error) {
          // Only the unattached ENI of an attempt that failed is deleted; an attached trunk never is.
          if (isOurs(facts.trunk)) trunk = await abandonAttempt(deps, trunk, step.eniId, call, context);
          return failed(deps, trunk, withoutEni(status), error, `attaching trunk ENI ${step.eniId}`);
        }
        context.log.info('attached trunk eni', {
          eni: step.eniId,
          deviceIndex: step.deviceIndex,
          attachment: attachmentId,
        });
        facts.trunk = attachedLocally(facts.trunk, trunk.spec.instanceId, attachmentId, step);
        status = { ...status, eniId: step.eniId, attachmentId };
        trunk = await writeStatus(trunk, status);
        break;
      }

      case 'no-free-slot': {
        if (step.eniId !== undefined && isOurs(facts.trunk))
          trunk = await abandonAttempt(deps, trunk, step.eniId, call, context);
        deps.events.noFreeSlot(nodeName, step.message);
        status = withProgress(
          trunk,
          withoutEni(status),
          { state: 'Failed', reason: 'NoFreeENISlot', message: step.message },
          deps.nowIso(),
        );
        // A slot frees up in EC2 (another ENI detached), which no watch reports: the long backoff.
        return { trunk, status, error: new OutsideFixError(`node ${nodeName}: ${step.message}`) };
      }

      case 'set-delete-on-termination':
        // If this fails the trunk stays attached and the next pass retries it; nothing can leak meanwhile,
        // because a terminated instance leaves the tagged trunk 'available' for the node cleanup to delete.
        await deps.ec2
          .setDeleteOnTermination(
            { networkInterfaceId: step.eniId, attachmentId: step.attachmentId, deleteOnTermination: true },
            call,
          )
          .catch((error: unknown) => {
            throw withContext(`setting DeleteOnTermination on trunk ENI ${step.eniId} of node ${nodeName}`, error);
          });
        if (facts.trunk?.attachment)
          facts.trunk = { ...facts.trunk, attachment: { ...facts.trunk.attachment, deleteOnTermination: true } };
        break;

      case 'wait-attached': {
        status = withProgress(
          trunk,
          status,
          { state: 'Attaching', reason: 'Attaching', message: step.message },
          deps.nowIso(),
        );
        if (redescribed) {
          return {
            trunk,
            status,
            requeueAfterMs: Math.min(ATTACH_POLL_BASE_MS * 2 ** pollAttempt, ATTACH_POLL_MAX_MS),
          };
        }
        redescribed = true;
        const [fresh] = await deps.ec2.describeNetworkInterfaces({ ids: [step.eniId] }, call);
        facts.trunk = fresh;
        break;
      }

      case 'describe-subnet': {
        const [subnet] = await deps.ec2.describeSubnets({ ids: [step.subnetId] }, call);
        if (subnet === undefined)
          throw new Ec2NotFoundError(`subnet ${step.subnetId} of trunk ENI not found`, {
            code: 'InvalidSubnetID.NotFound',
            action: 'DescribeSubnets',
          });
        facts.subnet = subnet;
        break;
      }

      case 'ready': {
        const attachment = step.trunk.attachment;
        status = withProgress(
          trunk,
          status,
          {
            state: 'Ready',
            reason: 'TrunkAttached',
            message: `trunk ENI ${step.trunk.id} is attached to ${trunk.spec.instanceId} at device index ${attachment?.deviceIndex ?? '?'}`,
          },
          deps.nowIso(),
          {
            eniId: step.trunk.id,
            ...(attachment ? { attachmentId: attachment.attachmentId } : {}),
            subnetId: step.subnet.id,
            subnetCidr: step.subnet.cidrBlock,
            ...(step.subnet.ipv6CidrBlock ? { subnetV6Cidr: step.subnet.ipv6CidrBlock } : {}),
            availabilityZone: step.trunk.availabilityZone,
            securityGroups: [...step.trunk.securityGroupIds].sort(),
          },
        );
        return { trunk, status };
      }

      default: {
        const unreachable: never = step;
        throw new Error(`unhandled trunk step ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return { trunk, status, requeueAfterMs: ATTACH_POLL_BASE_MS };
}

/** What EC2 says about the instance and its trunk: two describes. undefined when the instance is gone. */
async function gather(
  deps: SetupDeps,
  trunk: TrunkInterface,
  limits: InstanceTypeLimits,
  call: CallOptions,
): Promise<TrunkFacts | undefined> {
  const instanceId = trunk.spec.instanceId;
  const instance = await deps.ec2.describeInstance(instanceId, call).catch(ignoreNotFound);
  if (instance === undefined) return undefined;
  const ours = await deps.ec2.describeNetworkInterfaces(trunkEnisFilter(deps.cluster.clusterName, instanceId), call);
  const unattached = ours
    .filter((eni) => eni.attachment === undefined && eni.status === 'available')
    // Prefer the ENI status already names, then a stable order, so two passes agree on which one to keep.
    .sort((a, b) => rank(a, trunk) - rank(b, trunk) || a.id.localeCompare(b.id));

  const attachedId = attachedTrunkId(instance);
  let current: NetworkInterface | undefined;
  if (attachedId !== undefined) {
    current =
      ours.find((eni) => eni.id === attachedId) ??
      (await deps.ec2.describeNetworkInterfaces({ ids: [attachedId] }, call))[0];
  } else {
    current = unattached[0];
  }
  const strays = unattached.filter((eni) => eni.id !== current?.id).map((eni) => eni.id);
  const status = trunk.status;
  const subnet: Subnet | undefined =
    status?.subnetId !== undefined && status.subnetCidr !== undefined && status.availabilityZone !== undefined
      ? {
          id: status.subnetId,
          vpcId: instance.vpcId,
          availabilityZone: status.availabilityZone,
          cidrBlock: status.subnetCidr,
          ipv6CidrBlock: status.subnetV6Cidr ?? '',
          availableIpAddressCount: 0,
          tags: {},
        }
      : undefined;
  return { instance, limits, trunk: current, strays, subnet };
}

function rank(eni: NetworkInterface, trunk: TrunkInterface): number {
  return eni.id === trunk.status?.eniId ? 0 : 1;
}

function isOurs(eni: NetworkInterface | undefined): boolean {
  return eni?.tags[TAG.owner] === ENI_OWNER;
}

function createAttempt(trunk: TrunkInterface): number {
  const value = Number(trunk.metadata.annotations?.[CREATE_ATTEMPT_ANNOTATION] ?? '0');
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/**
 * Deletes the unattached ENI of a failed attempt. The attempt counter moves first: if we crash in between,
 * the ENI is still tagged and the next pass attaches it instead; the reverse order could make the next
 * create reuse the old token and get the deleted ENI back.
 */
async function abandonAttempt(
  deps: SetupDeps,
  trunk: TrunkInterface,
  eniId: string,
  call: CallOptions,
  context: ReconcileContext,
): Promise<TrunkInterface> {
  const next = String(createAttempt(trunk) + 1);
  const updated = await deps.client.mergePatch<TrunkInterface>(Kinds.TrunkInterface, trunk.metadata.name, {
    metadata: { annotations: { [CREATE_ATTEMPT_ANNOTATION]: next } },
  });
  await deps.ec2.deleteNetworkInterface(eniId, call).catch(ignoreNotFound);
  context.log.info('deleted trunk eni of failed attempt', { eni: eniId, attempt: next });
  return updated;
}

function attachedLocally(
  eni: NetworkInterface | undefined,
  instanceId: string,
  attachmentId: string,
  step: { deviceIndex: number; networkCardIndex: number },
): NetworkInterface | undefined {
  if (eni === undefined) return undefined;
  return {
    ...eni,
    status: 'in-use',
    attachment: {
      attachmentId,
      instanceId,
      deviceIndex: step.deviceIndex,
      networkCardIndex: step.networkCardIndex,
      status: 'attaching',
      deleteOnTermination: false,
    },
  };
}

/**
 * A failed EC2 step: Failed state, the EKS events, and how to come back. Throttling and server faults are
 * thrown (back-off); every other EC2 refusal needs a fix outside the cluster (IAM, the trunking allow-list,
 * a quota, the subnet's addresses) and is an OutsideFixError, retried on the long backoff so the fix takes
 * effect without anyone touching the node.
 */
function failed(
  deps: SetupDeps,
  trunk: TrunkInterface,
  status: TrunkStatus,
  error: unknown,
  doing: string,
): SetupResult {
  deps.events.creationFailed(trunk.spec.nodeName, error);
  const code = error instanceof Ec2Error ? error.code : 'Error';
  const next = withProgress(
    trunk,
    status,
    {
      state: 'Failed',
      reason: 'TrunkENICreationFailed',
      message: `${doing} failed: ${code}: ${error instanceof Error ? error.message : String(error)}`,
    },
    deps.nowIso(),
  );
  const wrapped = withContext(`${doing} for node ${trunk.spec.nodeName}`, error);
  return isRetryable(error) || !(error instanceof Ec2Error)
    ? { trunk, status: next, error: wrapped }
    : {
        trunk,
        status: next,
        // The code goes in the message: it is what the user searches for (UnauthorizedOperation, …).
        error: new OutsideFixError(`${doing} for node ${trunk.spec.nodeName}: ${code}: ${error.message}`, {
          cause: error,
        }),
      };
}
