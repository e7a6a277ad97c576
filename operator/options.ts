/**
 * The operator's configuration, read once from flags and the environment. Every option has a flag, an
 * environment twin (`SGP_*`), a default, its unit in its name and help text that states the trade-off and
 * the bounds. {@link parseOptions} is pure (argv and env are passed in): it runs every check and reports
 * all problems together, each naming its flag and the fix, and returns a frozen object. Nothing else in the
 * operator reads `process.env`. The definitions below are also the source of `--help` and of the README's
 * configuration table (a unit test keeps the two in step).
 */
import { OperatorError } from './errors.ts';
import type { LogLevel } from './observability/logger.ts';
import {
  ADDRESS_HELP,
  EC2_BUCKETS,
  OPTION_DEFINITIONS,
  WEBHOOK_ADDRESS_HELP,
  bucketFlagName,
  type Ec2BucketName,
  type OptionDefinition,
} from './option-definitions.ts';

export { EC2_BUCKETS, OPTION_DEFINITIONS, type Ec2BucketName, type OptionDefinition };

export interface RateLimit {
  /** Sustained requests per second. */
  qps: number;
  /** Requests allowed at once after an idle period. */
  burst: number;
}

/** A TCP listen address. `host` '' means every interface. */
export interface BindAddress {
  host: string;
  port: number;
}

export interface Options {
  clusterName: string;
  /** undefined: discovered at start from a Node's EC2 instance. */
  vpcId: string | undefined;
  region: string;
  ec2Endpoint: string | undefined;
  trunkAssociationRoleArn: string | undefined;
  /** Account granted INSTANCE-ATTACH on trunks and branches; from the role ARN when not given. */
  trunkAssociationAccountId: string | undefined;
  ec2RateLimits: Readonly<Record<Ec2BucketName, Readonly<RateLimit>>>;
  ec2MaxAttempts: number;
  podWorkers: number;
  branchWorkers: number;
  nodeWorkers: number;
  branchCooldownSeconds: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  /** undefined: the server is off ("0"). */
  metricsBindAddress: BindAddress | undefined;
  /** HTTPS with TokenReview/SubjectAccessReview (true) or plain HTTP to anyone (false). */
  metricsSecure: boolean;
  /** undefined: a self-signed certificate made in memory. */
  metricsCertDir: string | undefined;
  healthProbeBindAddress: BindAddress | undefined;
  webhookBindAddress: BindAddress;
  /** undefined: the operator issues its own certificate and keeps the caBundle current. */
  webhookCertDir: string | undefined;
  webhookServiceName: string;
  webhookServiceNamespace: string;
  enableWebhooks: boolean;
  strictPodEniResource: boolean;
  /** '' keeps branch ENIs in their node's subnet. */
  podSubnetTagKey: string;
  /** auto: from the aws-node DaemonSet (ENABLE_IPv6). */
  ipFamily: 'auto' | 'ipv4' | 'ipv6';
  dualStackBranchEnis: boolean;
  /** auto: from the aws-node DaemonSet (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG). */
  customNetworking: 'auto' | 'enabled' | 'disabled';
  /** undefined: from the aws-node DaemonSet, else the CNI's default key. */
  eniConfigLabelKey: string | undefined;
  eniConfigAnnotationKey: string | undefined;
  vpcRefreshIntervalSeconds: number;
  /** Seconds between leak sweeps (--leak-sweep-interval-seconds). */
  leakSweepIntervalSeconds: number;
  enableSecurityGroupAnnotations: boolean;
  /** Groups a vpc.amazonaws.com/security-groups annotation may name; de-duplicated, in the order given. */
  securityGroupAnnotationAllowList: readonly string[];
  logLevel: LogLevel;
  /** undefined: in-cluster service account, else $HOME/.kube/config. */
  kubeconfig: string | undefined;
}

type Value = string | number | boolean | BindAddress;

/** One bad value: which flag, and what to do. */
export interface OptionProblem {
  flag: string;
  message: string;
}

export class OptionsError extends OperatorError {
  readonly problems: readonly OptionProblem[];
  constructor(problems: readonly OptionProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  --${problem.flag}: ${problem.message}`).join('\n') +
        '\nRun with --help for every option.',
    );
    this.problems = problems;
  }
}

export type ParseResult = { kind: 'options'; options: Readonly<Options> } | { kind: 'help' } | { kind: 'version' };
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads `argv` (flags as `--name=value`, `--name value`, or a bare `--name` for booleans) over `env`:
 * a flag beats its `SGP_*` variable, which beats the standard aliases, which beat the default.
 * Throws {@link OptionsError} listing every problem.
 */
export function parseOptions(argv: readonly string[], env: Environment): ParseResult {
  const problems: OptionProblem[] = [];
  const { flags, wantsHelp, wantsVersion } = readArgv(argv, problems);
  if (wantsHelp) return { kind: 'help' };
  if (wantsVersion) return { kind: 'version' };

  const values = new Map<string, Value | undefined>();
  for (const definition of OPTION_DEFINITIONS) {
    const raw = rawValue(definition, flags, env);
    if (raw === undefined || raw.value === '') {
      if (definition.required) {
        problems.push({ flag: definition.flag, message: `required: ${definition.required}; ${setHint(definition)}` });
      }
      values.set(definition.flag, definition.type === 'address' ? parseAddressDefault(definition) : definition.default);
      continue;
    }
    const parsed = parseValue(definition, raw.value);
    if ('problem' in parsed) {
      const origin = raw.source === 'flag' ? '' : ` (from ${raw.source})`;
      problems.push({ flag: definition.flag, message: `"${raw.value}"${origin} ${parsed.problem}` });
    } else {
      values.set(definition.flag, parsed.value);
    }
  }
  if (problems.length === 0) problems.push(...crossChecks(values));
  if (problems.length > 0) throw new OptionsError(problems);
  return { kind: 'options', options: deepFreeze(buildOptions(values)) };
}

/**
 * The security-group annotation rule (--enable-security-group-annotations and its allow-list) of an operator
 * started with `argv` over `env`, read by the operator's own parser: `kubectl sgp` reads it from the operator's
 * Deployment, and so judges annotations exactly as the operator does. Problems with other flags are ignored.
 */
export function securityGroupAnnotationRuleOf(
  argv: readonly string[],
  env: Environment,
): { isEnabled: boolean; allowList: string[] } | { problems: OptionProblem[] } {
  const { flags } = readArgv(argv, []);
  const problems: OptionProblem[] = [];
  const value = (flag: string): Value | undefined => {
    const definition = OPTION_DEFINITIONS.find((candidate) => candidate.flag === flag);
    if (!definition) return undefined;
    const raw = rawValue(definition, flags, env);
    if (raw === undefined || raw.value === '') return definition.default;
    const parsed = parseValue(definition, raw.value);
    if ('problem' in parsed) {
      problems.push({ flag, message: `"${raw.value}" ${parsed.problem}` });
      return undefined;
    }
    return parsed.value;
  };
  const isEnabled = value('enable-security-group-annotations') === true;
  const allowList = allowListOf(value('security-group-annotation-allow-list') as string | undefined);
  return problems.length > 0 ? { problems } : { isEnabled, allowList };
}

/** "sg-a, sg-b,,sg-a" → [sg-a, sg-b]. */
function allowListOf(text: string | undefined): string[] {
  return [...new Set((text ?? '').split(',').map((id) => id.trim()))].filter((id) => id !== '');
}

/**
 * The options with only the required ones given: every other value is its definition's default. What tests,
 * benchmarks and tools start from, so they run with the defaults a user gets.
 */
export function defaultOptions(required: { clusterName: string; region: string }): Readonly<Options> {
  const parsed = parseOptions(['--cluster-name', required.clusterName, '--region', required.region], {});
  if (parsed.kind !== 'options') throw new OperatorError('unreachable: no --help or --version given');
  return parsed.options;
}

function readArgv(
  argv: readonly string[],
  problems: OptionProblem[],
): { flags: Map<string, string>; wantsHelp: boolean; wantsVersion: boolean } {
  const flags = new Map<string, string>();
  const byFlag = new Map(OPTION_DEFINITIONS.map((definition) => [definition.flag, definition]));
  let wantsHelp = false;
  let wantsVersion = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--help' || arg === '-h') {
      wantsHelp = true;
      continue;
    }
    if (arg === '--version') {
      wantsVersion = true;
      continue;
    }
    const match = /^--?([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) {
      problems.push({ flag: arg, message: 'not a flag; options are --name=value (positional arguments are not used)' });
      continue;
    }
    const name = match[1];
    const definition = byFlag.get(name);
    if (!definition) {
      problems.push({ flag: name, message: `unknown flag${closestFlagHint(name)}` });
      continue;
    }
    let value = match[2];
    if (value === undefined) {
      const next = argv[index + 1];
      if (definition.type === 'boolean') value = next === 'true' || next === 'false' ? argv[++index] : 'true';
      else if (next !== undefined && !next.startsWith('--')) value = argv[++index];
      else {
        problems.push({ flag: name, message: `needs a value: --${name}=<${definition.type}>` });
        continue;
      }
    }
    if (flags.has(name)) problems.push({ flag: name, message: 'given more than once; keep one' });
    flags.set(name, value ?? '');
  }
  return { flags, wantsHelp, wantsVersion };
}

function rawValue(
  definition: OptionDefinition,
  flags: ReadonlyMap<string, string>,
  env: Environment,
): { value: string; source: string } | undefined {
  const fromFlag = flags.get(definition.flag);
  if (fromFlag !== undefined) return { value: fromFlag.trim(), source: 'flag' };
  for (const name of [definition.env, ...(definition.envAliases ?? [])]) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv.trim(), source: `env ${name}` };
  }
  return undefined;
}

function parseValue(definition: OptionDefinition, raw: string): { value: Value | undefined } | { problem: string } {
  const bounds = `between ${definition.min} and ${definition.max}`;
  switch (definition.type) {
    case 'string':
      if (definition.pattern && !definition.pattern.regex.test(raw)) {
        return { problem: `is not valid: expected ${definition.pattern.expected}` };
      }
      return { value: raw };
    case 'integer':
    case 'number': {
      const value = Number(raw);
      const isWhole = definition.type === 'integer';
      if (!/^-?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || (isWhole && !Number.isInteger(value))) {
        return { problem: `is not ${isWhole ? 'a whole number' : 'a number'}; use one ${bounds}` };
      }
      if (
        (definition.min !== undefined && value < definition.min) ||
        (definition.max !== undefined && value > definition.max)
      ) {
        return { problem: `is out of range; use a value ${bounds}` };
      }
      return { value };
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return { value: true };
      if (raw === 'false' || raw === '0') return { value: false };
      return { problem: 'is not a boolean; use true or false' };
    case 'enum':
      if (definition.values?.includes(raw)) return { value: raw };
      return { problem: `is not one of ${definition.values?.join(', ')}` };
    case 'address': {
      const address = parseBindAddress(raw);
      if (address === 'invalid' || (address === undefined && !definition.canTurnOff)) {
        return {
          problem: `is not a listen address; use ${definition.canTurnOff ? ADDRESS_HELP : WEBHOOK_ADDRESS_HELP}`,
        };
      }
      return { value: address };
    }
    default: {
      const unreachable: never = definition.type;
      return unreachable;
    }
  }
}

/** ":8080" → every interface; "127.0.0.1:0" → a free port on loopback; "0" → off (undefined). */
export function parseBindAddress(raw: string): BindAddress | undefined | 'invalid' {
  if (raw === '0') return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(raw);
  if (!match) return 'invalid';
  const port = Number(match[2]);
  if (port > 65535) return 'invalid';
  return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

function parseAddressDefault(definition: OptionDefinition): Value | undefined {
  const address = parseBindAddress(String(definition.default ?? '0'));
  return address === 'invalid' || address === undefined ? undefined : address;
}

function crossChecks(values: ReadonlyMap<string, Value | undefined>): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const lease = values.get('lease-duration-seconds') as number;
  const renew = values.get('renew-deadline-seconds') as number;
  const retry = values.get('retry-period-seconds') as number;
  if (renew >= lease) {
    problems.push({
      flag: 'renew-deadline-seconds',
      message: `${renew} must be less than --lease-duration-seconds (${lease}), or followers take over while the leader still renews`,
    });
  }
  if (retry >= renew) {
    problems.push({
      flag: 'retry-period-seconds',
      message: `${retry} must be less than --renew-deadline-seconds (${renew}), or the leader gets no second try before giving up`,
    });
  }
  const roleArn = values.get('trunk-association-role-arn') as string | undefined;
  const accountId = values.get('trunk-association-account-id') as string | undefined;
  const roleAccount = roleArn?.split(':')[4];
  if (accountId && roleAccount && accountId !== roleAccount) {
    problems.push({
      flag: 'trunk-association-account-id',
      message: `${accountId} differs from the account of --trunk-association-role-arn (${roleAccount}); EC2 lets only that account use the ENIs, so drop this flag or fix the role`,
    });
  }
  if (accountId && !roleArn) {
    problems.push({
      flag: 'trunk-association-account-id',
      message: 'only applies with --trunk-association-role-arn; set the role too, or drop this flag',
    });
  }
  if (values.get('enable-security-group-annotations') === true && !values.get('security-group-annotation-allow-list')) {
    problems.push({
      flag: 'enable-security-group-annotations',
      message:
        'needs --security-group-annotation-allow-list (or SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST): with an empty ' +
        'allow-list every annotation would be refused; list the groups pods may ask for, or turn the feature off',
    });
  }
  if (values.get('ip-family') === 'ipv6' && values.get('dual-stack-branch-enis') === true) {
    problems.push({
      flag: 'dual-stack-branch-enis',
      message:
        'is for IPv4 clusters: with --ip-family=ipv6 every branch ENI already gets an IPv6 address next to its ' +
        'IPv4 one; drop one of the two',
    });
  }
  if (values.get('ip-family') === 'ipv6' && values.get('custom-networking') === 'enabled') {
    problems.push({
      flag: 'custom-networking',
      message:
        'is not available with --ip-family=ipv6: the VPC CNI runs custom networking for IPv4 only; use ' +
        '--custom-networking=disabled (or auto), or an IPv4 cluster',
    });
  }
  const ports = ['metrics-bind-address', 'health-probe-bind-address', 'webhook-bind-address']
    .map((flag) => ({ flag, address: values.get(flag) as BindAddress | undefined }))
    .filter((entry) => entry.address !== undefined && entry.address.port !== 0);
  for (const [index, entry] of ports.entries()) {
    const clash = ports.slice(0, index).find((other) => other.address?.port === entry.address?.port);
    if (clash) {
      problems.push({
        flag: entry.flag,
        message: `port ${entry.address?.port} is already used by --${clash.flag}; pick another`,
      });
    }
  }
  return problems;
}

function buildOptions(values: ReadonlyMap<string, Value | undefined>): Options {
  const text = (flag: string) => values.get(flag) as string | undefined;
  /** An option with a default in its definition: never undefined. */
  const defaulted = (flag: string) => values.get(flag) as string;
  const count = (flag: string) => values.get(flag) as number;
  const bool = (flag: string) => values.get(flag) as boolean;
  const address = (flag: string) => values.get(flag) as BindAddress | undefined;
  const roleArn = text('trunk-association-role-arn');
  const ec2RateLimits = Object.fromEntries(
    EC2_BUCKETS.map((bucket) => [
      bucket.name,
      {
        qps: count(`ec2-${bucketFlagName(bucket.name)}-qps`),
        burst: count(`ec2-${bucketFlagName(bucket.name)}-burst`),
      },
    ]),
  ) as Record<Ec2BucketName, RateLimit>;
  return {
    clusterName: text('cluster-name') ?? '',
    vpcId: text('vpc-id'),
    region: text('region') ?? '',
    ec2Endpoint: text('ec2-endpoint'),
    trunkAssociationRoleArn: roleArn,
    trunkAssociationAccountId: text('trunk-association-account-id') ?? roleArn?.split(':')[4],
    ec2RateLimits,
    ec2MaxAttempts: count('ec2-max-attempts'),
    podWorkers: count('pod-workers'),
    branchWorkers: count('branch-workers'),
    nodeWorkers: count('node-workers'),
    branchCooldownSeconds: count('branch-cooldown-seconds'),
    leaderElect: bool('leader-elect'),
    leaderElectionNamespace: defaulted('leader-election-namespace'),
    leaderElectionId: defaulted('leader-election-id'),
    leaseDurationSeconds: count('lease-duration-seconds'),
    renewDeadlineSeconds: count('renew-deadline-seconds'),
    retryPeriodSeconds: count('retry-period-seconds'),
    metricsBindAddress: address('metrics-bind-address'),
    metricsSecure: bool('metrics-secure'),
    metricsCertDir: text('metrics-cert-dir'),
    healthProbeBindAddress: address('health-probe-bind-address'),
    webhookBindAddress: values.get('webhook-bind-address') as BindAddress,
    webhookCertDir: text('webhook-cert-dir'),
    webhookServiceName: defaulted('webhook-service-name'),
    webhookServiceNamespace: defaulted('webhook-service-namespace'),
    enableWebhooks: bool('enable-webhooks'),
    strictPodEniResource: bool('strict-pod-eni-resource'),
    podSubnetTagKey: defaulted('pod-subnet-tag-key'),
    ipFamily: defaulted('ip-family') as Options['ipFamily'],
    dualStackBranchEnis: bool('dual-stack-branch-enis'),
    customNetworking: defaulted('custom-networking') as Options['customNetworking'],
    eniConfigLabelKey: text('eni-config-label-key') || undefined,
    eniConfigAnnotationKey: text('eni-config-annotation-key') || undefined,
    vpcRefreshIntervalSeconds: count('vpc-refresh-interval-seconds'),
    leakSweepIntervalSeconds: count('leak-sweep-interval-seconds'),
    enableSecurityGroupAnnotations: bool('enable-security-group-annotations'),
    securityGroupAnnotationAllowList: allowListOf(text('security-group-annotation-allow-list')),
    logLevel: defaulted('log-level') as LogLevel,
    kubeconfig: text('kubeconfig'),
  };
}

function setHint(definition: OptionDefinition): string {
  const names = [definition.env, ...(definition.envAliases ?? [])].join(' or ');
  return `set --${definition.flag}=<value> or ${names}`;
}

function closestFlagHint(name: string): string {
  const candidates = OPTION_DEFINITIONS.map((definition) => definition.flag).filter(
    (flag) => flag.includes(name) || name.includes(flag) || editDistance(flag, name) <= 3,
  );
  return candidates.length > 0 ? `; did you mean --${candidates[0]}?` : '; see --help';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
