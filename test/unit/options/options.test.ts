import { describe, expect, test } from '@jest/globals';
import { DEFAULT_BUCKETS } from '../../../operator/aws/rate-limiter.ts';
import { MINIMUM_COOLDOWN_MS } from '../../../operator/controllers/branchinterface/cooldown.ts';
import { controllerSettings } from '../../../operator/controllers/deps.ts';
import {
  defaultOptions,
  OPTION_DEFINITIONS,
  OptionsError,
  parseOptions,
  type Options,
  type OptionProblem,
} from '../../../operator/options.ts';

const REQUIRED = ['--cluster-name=lab', '--region=eu-west-1'];

function parse(argv: string[], env: Record<string, string> = {}): Readonly<Options> {
  const result = parseOptions(argv, env);
  if (result.kind !== 'options') throw new Error(`expected options, got ${result.kind}`);
  return result.options;
}

function problemsOf(argv: string[], env: Record<string, string> = {}): OptionProblem[] {
  try {
    parseOptions(argv, env);
  } catch (error) {
    if (error instanceof OptionsError) return [...error.problems];
    throw error;
  }
  throw new Error('expected an OptionsError');
}

describe('parseOptions', () => {
  test('the required options alone give the documented defaults', () => {
    expect(parse(REQUIRED)).toEqual({
      clusterName: 'lab',
      vpcId: undefined,
      region: 'eu-west-1',
      ec2Endpoint: undefined,
      trunkAssociationRoleArn: undefined,
      trunkAssociationAccountId: undefined,
      ec2RateLimits: {
        CreateNetworkInterface: { qps: 5, burst: 100 },
        DeleteNetworkInterface: { qps: 5, burst: 100 },
        ModifyNetworkInterfaceAttribute: { qps: 5, burst: 100 },
        CreateTags: { qps: 10, burst: 100 },
        DeleteTags: { qps: 10, burst: 100 },
        AttachNetworkInterface: { qps: 5, burst: 50 },
        DetachNetworkInterface: { qps: 5, burst: 50 },
        AssociateTrunkInterface: { qps: 5, burst: 50 },
        DisassociateTrunkInterface: { qps: 5, burst: 50 },
        CreateNetworkInterfacePermission: { qps: 5, burst: 50 },
        DescribeInstances: { qps: 20, burst: 100 },
        DescribeInstanceTypes: { qps: 20, burst: 100 },
        DescribeSubnets: { qps: 20, burst: 100 },
        DescribeVpcs: { qps: 20, burst: 100 },
        DescribeSecurityGroups: { qps: 20, burst: 100 },
        DescribeNetworkInterfaces: { qps: 20, burst: 100 },
        DescribeTrunkInterfaceAssociations: { qps: 20, burst: 100 },
        UnfilteredDescribe: { qps: 10, burst: 50 },
      },
      ec2MaxAttempts: 3,
      podWorkers: 20,
      branchWorkers: 30,
      nodeWorkers: 10,
      branchCooldownSeconds: 60,
      leaderElect: false,
      leaderElectionNamespace: 'kube-system',
      leaderElectionId: 'sgp-operator',
      leaseDurationSeconds: 30,
      renewDeadlineSeconds: 15,
      retryPeriodSeconds: 5,
      metricsBindAddress: { host: '', port: 8443 },
      metricsSecure: true,
      metricsCertDir: undefined,
      healthProbeBindAddress: { host: '', port: 8081 },
      webhookBindAddress: { host: '', port: 9443 },
      webhookCertDir: undefined,
      webhookServiceName: 'sgp-operator-webhook',
      webhookServiceNamespace: 'kube-system',
      enableWebhooks: true,
      strictPodEniResource: false,
      podSubnetTagKey: 'kubernetes.io/role/cni',
      ipFamily: 'auto',
      dualStackBranchEnis: false,
      customNetworking: 'auto',
      eniConfigLabelKey: undefined,
      eniConfigAnnotationKey: undefined,
      vpcRefreshIntervalSeconds: 60,
      leakSweepIntervalSeconds: 300,
      enableSecurityGroupAnnotations: false,
      securityGroupAnnotationAllowList: [],
      logLevel: 'info',
      kubeconfig: undefined,
    });
  });

  test('the result is frozen, nested objects included', () => {
    const options = parse(REQUIRED);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.ec2RateLimits)).toBe(true);
    expect(Object.isFrozen(options.ec2RateLimits.DescribeInstances)).toBe(true);
    expect(Object.isFrozen(options.metricsBindAddress)).toBe(true);
  });

  test('every bad value is reported at once, each naming its flag', () => {
    const problems = problemsOf(
      [
        '--region=Europe',
        '--vpc-id=vpc-xyz',
        '--pod-workers=0',
        '--branch-cooldown-seconds=10',
        '--ec2-describe-instances-qps=fast',
        '--log-level=verbose',
        '--leader-elect=yes',
        '--metrics-bind-address=localhost',
        '--bogus-flag=1',
      ],
      { SGP_NODE_WORKERS: '2.5' },
    );
    expect(problems.map((problem) => problem.flag).sort()).toEqual(
      [
        'bogus-flag',
        'branch-cooldown-seconds',
        'cluster-name',
        'ec2-describe-instances-qps',
        'leader-elect',
        'log-level',
        'metrics-bind-address',
        'node-workers',
        'pod-workers',
        'region',
        'vpc-id',
      ].sort(),
    );
  });

  test.each([
    [
      'missing required value',
      [],
      'cluster-name',
      'required: it goes into every ENI tag and scopes every leak sweep; set --cluster-name=<value> or SGP_CLUSTER_NAME',
    ],
    [
      'below the minimum',
      ['--branch-cooldown-seconds=29'],
      'branch-cooldown-seconds',
      '"29" is out of range; use a value between 30 and 86400',
    ],
    [
      'not a whole number',
      ['--pod-workers=1.5'],
      'pod-workers',
      '"1.5" is not a whole number; use one between 1 and 500',
    ],
    ['not in the enum', ['--log-level=trace'], 'log-level', '"trace" is not one of debug, info, warn, error'],
    [
      'pattern mismatch',
      ['--vpc-id=vpc-1'],
      'vpc-id',
      '"vpc-1" is not valid: expected vpc- followed by 8 or 17 hex digits',
    ],
    [
      'webhook address cannot be turned off',
      ['--webhook-bind-address=0'],
      'webhook-bind-address',
      '"0" is not a listen address; use host:port; ":port" listens on every interface, ":0" on a free port',
    ],
    ['typo gets a suggestion', ['--pod-worker=3'], 'pod-worker', 'unknown flag; did you mean --pod-workers?'],
    ['value missing after the flag', ['--region'], 'region', 'needs a value: --region=<string>'],
    ['flag given twice', ['--pod-workers=3', '--pod-workers=4'], 'pod-workers', 'given more than once; keep one'],
  ])('%s', (_name, argv, flag, message) => {
    const base = argv.includes('--region') || flag === 'cluster-name' ? ['--cluster-name=lab'] : REQUIRED;
    const args = flag === 'cluster-name' ? ['--region=eu-west-1'] : [...base, ...argv];
    expect(problemsOf(args).find((problem) => problem.flag === flag)?.message).toBe(message);
  });

  test('an env value that fails says where it came from', () => {
    expect(problemsOf(REQUIRED, { SGP_POD_WORKERS: 'many' })).toEqual([
      {
        flag: 'pod-workers',
        message: '"many" (from env SGP_POD_WORKERS) is not a whole number; use one between 1 and 500',
      },
    ]);
  });

  test('the error message lists every problem and points at --help', () => {
    expect(() => parseOptions(['--pod-workers=0'], {})).toThrow(
      new OptionsError([
        {
          flag: 'cluster-name',
          message:
            'required: it goes into every ENI tag and scopes every leak sweep; set --cluster-name=<value> or SGP_CLUSTER_NAME',
        },
        {
          flag: 'region',
          message:
            'required: every EC2 call is regional (IRSA and EKS Pod Identity set AWS_REGION for you); set --region=<value> or SGP_REGION or AWS_REGION or AWS_DEFAULT_REGION',
        },
        { flag: 'pod-workers', message: '"0" is out of range; use a value between 1 and 500' },
      ]),
    );
  });
});

describe('precedence: flag, then SGP_* variable, then standard variable, then default', () => {
  test.each([
    [
      'flag beats everything',
      ['--cluster-name=c', '--region=us-east-1'],
      { SGP_REGION: 'eu-west-1', AWS_REGION: 'ap-south-1' },
      'us-east-1',
    ],
    [
      'SGP_ variable beats AWS_REGION',
      ['--cluster-name=c'],
      { SGP_REGION: 'eu-west-1', AWS_REGION: 'ap-south-1' },
      'eu-west-1',
    ],
    [
      'AWS_REGION beats AWS_DEFAULT_REGION',
      ['--cluster-name=c'],
      { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'us-west-2' },
      'ap-south-1',
    ],
    [
      'an empty variable counts as unset',
      ['--cluster-name=c'],
      { SGP_REGION: ' ', AWS_DEFAULT_REGION: 'us-west-2' },
      'us-west-2',
    ],
  ])('%s', (_name, argv, env, region) => {
    expect(parse(argv, env).region).toBe(region);
  });

  test('AWS_ENDPOINT_URL_EC2 is honoured, the flag wins over it', () => {
    expect(parse(REQUIRED, { AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:4566' }).ec2Endpoint).toBe(
      'http://127.0.0.1:4566',
    );
    expect(
      parse([...REQUIRED, '--ec2-endpoint', 'http://127.0.0.1:5000'], { AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:4566' })
        .ec2Endpoint,
    ).toBe('http://127.0.0.1:5000');
  });

  test('numbers and booleans from the environment', () => {
    const options = parse(REQUIRED, {
      SGP_BRANCH_COOLDOWN_SECONDS: '45',
      SGP_LEADER_ELECT: 'true',
      SGP_EC2_ASSOCIATE_TRUNK_INTERFACE_QPS: '2.5',
      SGP_ENABLE_WEBHOOKS: '0',
    });
    expect([
      options.branchCooldownSeconds,
      options.leaderElect,
      options.ec2RateLimits.AssociateTrunkInterface,
      options.enableWebhooks,
    ]).toEqual([45, true, { qps: 2.5, burst: 50 }, false]);
  });
});

describe('flag forms and cross-checks', () => {
  test('booleans take a bare flag, =value, or a following true/false', () => {
    expect(parse([...REQUIRED, '--leader-elect']).leaderElect).toBe(true);
    expect(parse([...REQUIRED, '--leader-elect=false']).leaderElect).toBe(false);
    expect(parse([...REQUIRED, '--enable-webhooks', 'false', '--pod-workers', '7']).enableWebhooks).toBe(false);
  });

  test('bind addresses: "0" turns a server off, ":0" picks a free port, hosts are kept', () => {
    const options = parse([
      ...REQUIRED,
      '--metrics-bind-address=0',
      '--health-probe-bind-address=127.0.0.1:0',
      '--webhook-bind-address=[::1]:9443',
    ]);
    expect([options.metricsBindAddress, options.healthProbeBindAddress, options.webhookBindAddress]).toEqual([
      undefined,
      { host: '127.0.0.1', port: 0 },
      { host: '::1', port: 9443 },
    ]);
  });

  test('two servers on one port are refused', () => {
    expect(problemsOf([...REQUIRED, '--health-probe-bind-address=:8443'])).toEqual([
      {
        flag: 'health-probe-bind-address',
        message: 'port 8443 is already used by --metrics-bind-address; pick another',
      },
    ]);
  });

  test('leader election timings must nest: lease > renew deadline > retry period', () => {
    expect(
      problemsOf([
        ...REQUIRED,
        '--lease-duration-seconds=10',
        '--renew-deadline-seconds=10',
        '--retry-period-seconds=10',
      ]),
    ).toEqual([
      {
        flag: 'renew-deadline-seconds',
        message:
          '10 must be less than --lease-duration-seconds (10), or followers take over while the leader still renews',
      },
      {
        flag: 'retry-period-seconds',
        message:
          '10 must be less than --renew-deadline-seconds (10), or the leader gets no second try before giving up',
      },
    ]);
  });

  test('the association account defaults to the role’s account and must match it', () => {
    const role = '--trunk-association-role-arn=arn:aws:iam::123456789012:role/trunk';
    expect(parse([...REQUIRED, role]).trunkAssociationAccountId).toBe('123456789012');
    expect(problemsOf([...REQUIRED, role, '--trunk-association-account-id=210987654321'])).toEqual([
      {
        flag: 'trunk-association-account-id',
        message:
          '210987654321 differs from the account of --trunk-association-role-arn (123456789012); EC2 lets only that account use the ENIs, so drop this flag or fix the role',
      },
    ]);
    expect(problemsOf([...REQUIRED, '--trunk-association-account-id=210987654321'])).toEqual([
      {
        flag: 'trunk-association-account-id',
        message: 'only applies with --trunk-association-role-arn; set the role too, or drop this flag',
      },
    ]);
  });

  test('security group annotations: the allow-list is trimmed and de-duplicated; ids are checked', () => {
    const options = parse([
      ...REQUIRED,
      '--enable-security-group-annotations',
      '--security-group-annotation-allow-list=sg-0123abcd, sg-0123456789abcdef0,sg-0123abcd',
    ]);
    expect(options.enableSecurityGroupAnnotations).toBe(true);
    expect(options.securityGroupAnnotationAllowList).toEqual(['sg-0123abcd', 'sg-0123456789abcdef0']);
    expect(
      parse([...REQUIRED], { SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST: 'sg-0123abcd' })
        .securityGroupAnnotationAllowList,
    ).toEqual(['sg-0123abcd']);
    expect(problemsOf([...REQUIRED, '--security-group-annotation-allow-list=sg-0123abcd,sg-xyz'])).toEqual([
      {
        flag: 'security-group-annotation-allow-list',
        message:
          '"sg-0123abcd,sg-xyz" is not valid: expected security group ids (sg- followed by 8 or 17 hex digits) separated by commas',
      },
    ]);
  });

  test('enabling security group annotations with an empty allow-list is refused, naming both flags', () => {
    expect(problemsOf([...REQUIRED, '--enable-security-group-annotations'])).toEqual([
      {
        flag: 'enable-security-group-annotations',
        message:
          'needs --security-group-annotation-allow-list (or SGP_SECURITY_GROUP_ANNOTATION_ALLOW_LIST): with an empty allow-list every annotation would be refused; list the groups pods may ask for, or turn the feature off',
      },
    ]);
  });

  test('pod networking: IPv6 with dual-stack, or with custom networking, is refused naming the flag', () => {
    expect(
      problemsOf([...REQUIRED, '--ip-family=ipv6', '--dual-stack-branch-enis', '--custom-networking=enabled']),
    ).toEqual([
      {
        flag: 'dual-stack-branch-enis',
        message:
          'is for IPv4 clusters: with --ip-family=ipv6 every branch ENI already gets an IPv6 address next to its IPv4 one; drop one of the two',
      },
      {
        flag: 'custom-networking',
        message:
          'is not available with --ip-family=ipv6: the VPC CNI runs custom networking for IPv4 only; use --custom-networking=disabled (or auto), or an IPv4 cluster',
      },
    ]);
    expect(
      parse([
        ...REQUIRED,
        '--ip-family=ipv4',
        '--dual-stack-branch-enis',
        '--eni-config-label-key=topology.kubernetes.io/zone',
      ]),
    ).toMatchObject({
      ipFamily: 'ipv4',
      dualStackBranchEnis: true,
      customNetworking: 'auto',
      eniConfigLabelKey: 'topology.kubernetes.io/zone',
    });
    expect(problemsOf([...REQUIRED, '--ip-family=ipv5'])).toEqual([
      { flag: 'ip-family', message: '"ipv5" is not one of auto, ipv4, ipv6' },
    ]);
  });

  test('--help wins over bad values', () => {
    expect(parseOptions(['--pod-workers=0', '--help'], {})).toEqual({ kind: 'help' });
  });

  test('--version needs no other option and wins over bad values', () => {
    expect(parseOptions(['--version'], {})).toEqual({ kind: 'version' });
    expect(parseOptions(['--pod-workers=0', '--version'], {})).toEqual({ kind: 'version' });
  });
});

describe('definitions', () => {
  test.each(OPTION_DEFINITIONS.map((definition) => [definition.flag, definition] as const))(
    '--%s has an SGP_ twin, help text and a default or a stated reason to have none',
    (_flag, definition) => {
      expect(definition.env).toBe(`SGP_${definition.flag.toUpperCase().replaceAll('-', '_')}`);
      expect(definition.help.length).toBeGreaterThan(20);
      const numeric = definition.type === 'integer' || definition.type === 'number';
      if (numeric)
        expect([definition.min !== undefined, definition.max !== undefined, definition.default !== undefined]).toEqual([
          true,
          true,
          true,
        ]);
      if (definition.default === undefined && !definition.required)
        expect(definition.help).toMatch(/Empty|empty|Optional|Defaults to/);
    },
  );
});

describe('EC2 buckets', () => {
  test('the AWS layer keeps one bucket per definition, with EC2’s documented default buckets', () => {
    const heavy = { capacity: 100, refillPerSecond: 5 };
    const other = { capacity: 50, refillPerSecond: 5 };
    const tagging = { capacity: 100, refillPerSecond: 10 };
    const describe = { capacity: 100, refillPerSecond: 20 };
    expect(DEFAULT_BUCKETS).toEqual({
      CreateNetworkInterface: heavy,
      DeleteNetworkInterface: heavy,
      ModifyNetworkInterfaceAttribute: heavy,
      CreateTags: tagging,
      DeleteTags: tagging,
      AttachNetworkInterface: other,
      DetachNetworkInterface: other,
      AssociateTrunkInterface: other,
      DisassociateTrunkInterface: other,
      CreateNetworkInterfacePermission: other,
      DescribeInstances: describe,
      DescribeInstanceTypes: describe,
      DescribeSubnets: describe,
      DescribeVpcs: describe,
      DescribeSecurityGroups: describe,
      DescribeNetworkInterfaces: describe,
      DescribeTrunkInterfaceAssociations: describe,
      UnfilteredDescribe: { capacity: 50, refillPerSecond: 10 },
    });
  });

  test('a flag overrides one bucket and leaves the others at their defaults', () => {
    expect(
      parse([...REQUIRED, '--ec2-unfiltered-describe-burst=20', '--ec2-create-network-interface-qps=2']).ec2RateLimits,
    ).toMatchObject({
      UnfilteredDescribe: { qps: 10, burst: 20 },
      CreateNetworkInterface: { qps: 2, burst: 100 },
      DeleteNetworkInterface: { qps: 5, burst: 100 },
    });
  });
});

describe('defaults reach the controllers', () => {
  test('with nothing set, the controllers run with the definitions’ defaults, in their own units', () => {
    expect(controllerSettings(defaultOptions({ clusterName: 'lab', region: 'eu-west-1' }))).toEqual({
      podWorkers: 20,
      branchWorkers: 30,
      nodeWorkers: 10,
      strictPodEniResource: false,
      podSubnetTagKey: 'kubernetes.io/role/cni',
      vpcRefreshIntervalMs: 60_000,
      leakSweepIntervalMs: 300_000,
      securityGroupAnnotations: { isEnabled: false, allowList: [] },
    });
  });

  test('a flag reaches the controller settings', () => {
    const settings = controllerSettings(
      parse([...REQUIRED, '--pod-workers=3', '--leak-sweep-interval-seconds=2', '--vpc-refresh-interval-seconds=15']),
    );
    expect(settings).toMatchObject({ podWorkers: 3, leakSweepIntervalMs: 2_000, vpcRefreshIntervalMs: 15_000 });
  });

  test('the cooldown floor is the --branch-cooldown-seconds minimum', () => {
    expect(MINIMUM_COOLDOWN_MS).toBe(30_000);
    expect(problemsOf([...REQUIRED, '--branch-cooldown-seconds=29'])).toEqual([
      { flag: 'branch-cooldown-seconds', message: '"29" is out of range; use a value between 30 and 86400' },
    ]);
  });
});
