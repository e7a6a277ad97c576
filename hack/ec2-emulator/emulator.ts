import { randomUUID } from 'node:crypto';
import { type ActionDefinition } from './actions/context.ts';
import { ACTIONS, allowedParams } from './actions/registry.ts';
import { FaultInjector } from './faults.ts';
import { latencyFor } from './latency.ts';
import { Ec2Fault, missingParameter } from './protocol/errors.ts';
import { QueryParams } from './protocol/query.ts';
import { type XmlObject, errorXml, successXml } from './protocol/xml.ts';
import { type SignedRequest, verifySigV4 } from './sigv4.ts';
import { Store, type StoreConfig } from './state/store.ts';
import { Throttler } from './throttling.ts';
import type { ActionCounters, Ec2EmulatorOptions, LatencyConfig, MutationRecord } from './types.ts';

/** The EC2 side: request → throttling → faults → validation → idempotency → action → XML (docs/ec2-semantics.md#the-wire). */
export interface Ec2Response {
  status: number;
  body: string;
  requestId: string;
  delayMs: number;
}

export const DEFAULT_REGION = 'us-west-2';
export const DEFAULT_ACCOUNT_ID = '111122223333';

export function storeConfigFrom(options: Ec2EmulatorOptions): StoreConfig {
  return {
    region: options.region ?? DEFAULT_REGION,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    eventualConsistencyMs: options.eventualConsistencyMs ?? 0,
    attachDelayMs: options.attachDelayMs ?? 0,
    securityGroupsPerInterface: Math.min(16, options.quotas?.securityGroupsPerInterface ?? 5),
    networkInterfacesPerAz: options.quotas?.networkInterfacesPerAz ?? 5000,
    trunkingEnabled: options.trunkingEnabled ?? true,
    strictBranchDeletion: options.strictBranchDeletion ?? false,
  };
}

/** Any of these makes a Describe "filtered or paginated" for throttling (explicit ids count as filtering). */
const UNFILTERED_BREAKERS = /^(?:Filter\.|MaxResults$|NextToken$|[A-Za-z]+Id\.\d+$)/;

const IDEMPOTENCY_EXCLUDED = new Set(['ClientToken', 'Action', 'Version', 'DryRun']);

export class Emulator {
  readonly options: Ec2EmulatorOptions;
  readonly store: Store;
  readonly throttler: Throttler;
  readonly faults = new FaultInjector();
  latency: LatencyConfig;
  readonly #idempotency = new Map<string, { fingerprint: string; body: XmlObject }>();
  readonly #counters = new Map<string, ActionCounters>();
  readonly #mutations: MutationRecord[] = [];

  /** `now`: the emulator's clock (Date.now by default); in-process tests pass their fake clock's. */
  constructor(options: Ec2EmulatorOptions, now: () => number = Date.now) {
    this.options = options;
    this.store = new Store(storeConfigFrom(options), options.rngSeed ?? 'sgp', now);
    this.throttler = new Throttler(options.throttling ?? { enabled: false });
    this.latency = options.latency ?? false;
  }

  /** Back to an empty world with the start options' knobs. */
  reset(): void {
    this.store.clear();
    Object.assign(this.store.config, storeConfigFrom(this.options));
    this.throttler.configure(this.options.throttling ?? { enabled: false });
    this.faults.set([]);
    this.latency = this.options.latency ?? false;
    this.#idempotency.clear();
    this.#counters.clear();
    this.#mutations.length = 0;
  }

  mutations(): MutationRecord[] {
    return this.#mutations.map((record) => ({ ...record, ...(record.tags ? { tags: { ...record.tags } } : {}) }));
  }

  counters(): Record<string, ActionCounters> {
    return Object.fromEntries([...this.#counters].map(([action, c]) => [action, { ...c }]));
  }

  #count(action: string): ActionCounters {
    let counters = this.#counters.get(action);
    if (!counters) this.#counters.set(action, (counters = { calls: 0, errors: 0, throttled: 0 }));
    return counters;
  }

  handle(request: SignedRequest): Ec2Response {
    const requestId = randomUUID();
    let action = '(unknown)';
    try {
      const params = QueryParams.parse(request.body, request.rawQuery);
      action = params.string('Action') ?? '(missing)';
      this.#count(action).calls += 1;
      const body = this.#dispatch(request, params, action);
      return {
        status: 200,
        body: successXml(action, requestId, body),
        requestId,
        delayMs: latencyFor(this.latency, action, this.store.rng),
      };
    } catch (error) {
      const fault =
        error instanceof Ec2Fault
          ? error
          : new Ec2Fault('InternalError', `An internal error has occurred: ${String(error)}`, 500);
      const counters = this.#count(action);
      counters.errors += 1;
      if (fault.code === 'RequestLimitExceeded') counters.throttled += 1;
      return { status: fault.status, body: errorXml(fault.code, fault.message, requestId), requestId, delayMs: 0 };
    }
  }

  #dispatch(request: SignedRequest, params: QueryParams, action: string): XmlObject {
    if (this.options.sigv4 === 'verify') verifySigV4(request, this.options.credentials ?? { test: 'test' });
    if (!params.has('Action')) throw missingParameter('Action');
    const definition = ACTIONS.get(action);
    if (!definition) throw new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`);
    if (!params.has('Version')) throw missingParameter('Version');
    const isUnfiltered = ![...params.keys()].some((k) => UNFILTERED_BREAKERS.test(k));
    if (!this.throttler.tryTake(action, isUnfiltered, this.store.now())) {
      throw new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.', 503);
    }
    const fault = this.faults.draw(action, this.store.rng);
    if (fault?.phase === 'before') throw new Ec2Fault(fault.code, fault.message, fault.status);
    params.assertKnown(allowedParams(definition));
    if (params.bool('DryRun') === true) {
      throw new Ec2Fault('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    }
    const target = action.startsWith('Describe') ? undefined : this.#targetOf(params);
    const body = this.#run(definition, params);
    if (target) {
      this.#mutations.push({
        seq: this.#mutations.length + 1,
        atMs: this.store.now(),
        action,
        ...target,
        ...createdBy(body),
      });
    }
    if (fault) throw new Ec2Fault(fault.code, fault.message, fault.status);
    return body;
  }

  /** What a mutating call acts on, read before it runs (for the mutation log). */
  #targetOf(params: QueryParams): Omit<MutationRecord, 'seq' | 'atMs' | 'action'> {
    const associationId = params.string('AssociationId');
    const eniId =
      params.string('NetworkInterfaceId') ??
      params.string('BranchInterfaceId') ??
      (associationId ? this.store.associations.get(associationId)?.branchId : undefined);
    const tags = eniId ? this.store.enis.get(eniId)?.tags : undefined;
    return {
      ...(eniId ? { networkInterfaceId: eniId } : {}),
      ...(tags ? { tags: Object.fromEntries(tags) } : {}),
      ...(associationId ? { associationId } : {}),
    };
  }

  #run(definition: ActionDefinition, params: QueryParams): XmlObject {
    const token = definition.idempotent ? params.string('ClientToken') : undefined;
    if (token === undefined || token === '') return definition.handle({ params, store: this.store });
    const key = `${definition.name}\u0000${token}`;
    const fingerprint = params.fingerprint(IDEMPOTENCY_EXCLUDED);
    const previous = this.#idempotency.get(key);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw new Ec2Fault(
          'IdempotentParameterMismatch',
          `The client token '${token}' was already used with different parameters.`,
        );
      }
      return previous.body;
    }
    const body = definition.handle({ params, store: this.store });
    this.#idempotency.set(key, { fingerprint, body });
    return body;
  }
}

/** A create acts on the ENI it makes: its id and its tags as created. */
function createdBy(body: XmlObject): Pick<MutationRecord, 'networkInterfaceId' | 'tags'> {
  const eni = body.networkInterface;
  if (eni === undefined || typeof eni !== 'object' || Array.isArray(eni)) return {};
  const id = eni.networkInterfaceId;
  const tagSet = Array.isArray(eni.tagSet) ? eni.tagSet : [];
  const tags = Object.fromEntries(
    tagSet.flatMap((tag) =>
      tag !== null && typeof tag === 'object' && !Array.isArray(tag) ? [[String(tag.key), String(tag.value)]] : [],
    ),
  );
  return typeof id === 'string' ? { networkInterfaceId: id, tags } : {};
}
