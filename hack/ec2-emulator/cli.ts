/**
 * `node hack/ec2-emulator/cli.ts --port 4566 --seed-file hack/ec2-emulator/seeds/workshop.json`
 * Runs the EC2 emulator until SIGINT/SIGTERM. `--help` lists every flag.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEc2Emulator } from './server.ts';
import type { Ec2EmulatorOptions, Seed } from './types.ts';

const HELP = `EC2 emulator: a local EC2 Query API (2016-11-15) for @aws-sdk/client-ec2 (ENIs, trunks, branches).

Usage: node hack/ec2-emulator/cli.ts [flags]

  --port <n>                   TCP port on 127.0.0.1 (default 4566; 0 = random, printed at start)
  --seed-file <path>           JSON topology to create at start (see seeds/workshop.json and README.md)
  --rng-seed <string>          seed for deterministic ids, IPs and MACs (default "sgp")
  --region <name>              region for AZ names and DNS suffixes (default us-west-2)
  --account-id <12 digits>     owner id reported on every resource (default 111122223333)
  --throttling                 enable AWS's per-action token buckets (off by default)
  --throttling-scale <x>       multiply bucket sizes and refill rates (default 1; 0.1 = ten times stricter)
  --latency                    add realistic per-action latency (describes 20-80 ms, mutations 50-200 ms)
  --eventual-consistency-ms <n> hide new ENIs/instances/associations from lookups for n ms (default 0)
  --attach-delay-ms <n>        report new attachments as 'attaching' for n ms (default 0)
  --security-groups-per-eni <n> groups-per-ENI quota, 1..16 (default 5)
  --enis-per-az <n>            ENI quota per availability zone (default 5000)
  --no-trunking                answer trunk calls with UnauthorizedOperation, as a non-allow-listed account
  --sigv4-verify               verify SigV4 signatures (credentials test/test unless --credentials)
  --credentials <id:secret,...> known access keys for --sigv4-verify
  --help                       this text

Point the SDK at it with endpoint http://127.0.0.1:<port> (or AWS_ENDPOINT_URL_EC2), region us-west-2 and any
static credentials. The JSON control API lives under /_emulator/<method> (seed, launchInstance,
terminateInstance, addVpcCidr, addVpcIpv6Cidr, addSubnet, addSubnetIpv6Cidr, setFaults, setThrottling, setLatency,
setEventualConsistency, reset, dump, counters, ...).
`;

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      'seed-file': { type: 'string' },
      'rng-seed': { type: 'string' },
      region: { type: 'string' },
      'account-id': { type: 'string' },
      throttling: { type: 'boolean', default: false },
      'throttling-scale': { type: 'string' },
      latency: { type: 'boolean', default: false },
      'eventual-consistency-ms': { type: 'string' },
      'attach-delay-ms': { type: 'string' },
      'security-groups-per-eni': { type: 'string' },
      'enis-per-az': { type: 'string' },
      'no-trunking': { type: 'boolean', default: false },
      'sigv4-verify': { type: 'boolean', default: false },
      credentials: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const problems: string[] = [];
  const number = (flag: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max)
      problems.push(`--${flag} must be a number in [${min}, ${max}], got '${raw}'`);
    return value;
  };
  const port = number('port', values.port, 0, 65535) ?? 4566;
  const scale = number('throttling-scale', values['throttling-scale'], 0.001, 1000);
  const sgQuota = number('security-groups-per-eni', values['security-groups-per-eni'], 1, 16);
  const enisPerAz = number('enis-per-az', values['enis-per-az'], 1, 10_000_000);
  const options: Ec2EmulatorOptions = {
    port,
    rngSeed: values['rng-seed'],
    region: values.region,
    accountId: values['account-id'],
    throttling: { enabled: values.throttling, scale },
    latency: values.latency,
    eventualConsistencyMs: number('eventual-consistency-ms', values['eventual-consistency-ms'], 0, 3_600_000),
    attachDelayMs: number('attach-delay-ms', values['attach-delay-ms'], 0, 3_600_000),
    quotas: { securityGroupsPerInterface: sgQuota, networkInterfacesPerAz: enisPerAz },
    trunkingEnabled: !values['no-trunking'],
    sigv4: values['sigv4-verify'] ? 'verify' : 'off',
    credentials: values.credentials
      ? Object.fromEntries(values.credentials.split(',').map((pair) => pair.split(':', 2) as [string, string]))
      : undefined,
  };
  if (values['seed-file'] !== undefined) {
    try {
      options.seed = JSON.parse(readFileSync(values['seed-file'], 'utf8')) as Seed;
    } catch (error) {
      problems.push(`--seed-file ${values['seed-file']}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\nSee --help.\n`);
    process.exitCode = 2;
    return;
  }
  startEc2Emulator(options).then(
    (emulator) => {
      const counts = emulator.control.dump();
      process.stdout.write(
        `${JSON.stringify({ msg: 'ec2 emulator listening', endpoint: emulator.endpoint, vpcs: counts.vpcs.length, subnets: counts.subnets.length, instances: counts.instances.length })}\n`,
      );
      const stop = (): void => {
        emulator.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      process.stderr.write(`ec2 emulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

main();
