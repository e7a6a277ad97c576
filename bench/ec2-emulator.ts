/**
 * EC2 emulator benchmark: (1) simple calls/s over loopback against an emulator in its own process (one core,
 * it is single-threaded), driven by raw keep-alive HTTP so the SDK's own cost does not hide the emulator's;
 * (2) retained memory of a large state, measured in a child with --expose-gc; (3) a tag-filtered Describe at
 * that scale, to show the indexes keep it proportional to the result.
 *
 *   node bench/ec2-emulator.ts                 small: 3 s of calls, 500 instances + 10,000 ENIs
 *   node bench/ec2-emulator.ts --full          issue figures: 10 s, 5,000 instances + 100,000 ENIs
 *   flags: --seconds <n> --concurrency <n> --instances <n> --enis <n>
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    instances: { type: 'string' },
    enis: { type: 'string' },
    'memory-child': { type: 'boolean', default: false },
  },
});

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLI = `${HERE}../hack/ec2-emulator/cli.ts`;
const SEED = `${HERE}../hack/ec2-emulator/seeds/workshop.json`;

async function memoryChild(instances: number, enis: number): Promise<void> {
  const { Emulator } = await import('../hack/ec2-emulator/emulator.ts');
  const { createControl } = await import('../hack/ec2-emulator/control.ts');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  const baseline = process.memoryUsage();
  const emulator = new Emulator({ quotas: { networkInterfacesPerAz: 10_000_000 } });
  const control = createControl(emulator);
  const blocks = Math.ceil((instances + enis) / 60_000);
  const cidrs = Array.from({ length: blocks }, (_, i) => `10.${i}.0.0/16`);
  const seeded = control.seed({
    vpcs: [
      {
        cidrBlocks: cidrs.slice(0, 5),
        subnets: cidrs
          .slice(0, 5)
          .map((cidrBlock, i) => ({ cidrBlock, availabilityZone: `us-west-2${'abc'.charAt(i % 3)}` })),
        securityGroups: [{ name: 'node' }, { name: 'pods' }],
      },
    ],
  });
  const subnets = seeded.subnetIds;
  const perSubnet = Math.ceil(instances / subnets.length);
  let launched = 0;
  for (const subnet of subnets) {
    for (let i = 0; i < perSubnet && launched < instances; i++, launched++) {
      control.launchInstance({ instanceType: 'm5.large', subnet, securityGroups: ['node'] });
    }
  }
  const pods = seeded.securityGroupIds[1] ?? '';
  let created = 0;
  for (const subnet of subnets) {
    const room = Math.min(enis - created, 60_000 - perSubnet);
    if (room <= 0) break;
    for (let batch = 0; batch < room; batch += 100) {
      const count = Math.min(100, room - batch);
      control.bulkCreateNetworkInterfaces({
        subnetId: subnet,
        count,
        securityGroupIds: [pods],
        description: 'aws-k8s-branch-eni',
        tags: {
          'eks:eni:owner': 'sgp-operator',
          'cluster.k8s.amazonaws.com/name': 'bench',
          'vpcresources.k8s.aws/trunk-eni-id': `eni-${String(created + batch).padStart(17, '0')}`,
          'vpcresources.k8s.aws/vlan-id': String(((batch / 100) % 120) + 1),
        },
      });
    }
    created += room;
  }
  gc();
  const loaded = process.memoryUsage();
  const trunkTag = `eni-${String(Math.floor(created / 200) * 100).padStart(17, '0')}`;
  const body = `Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=tag%3Avpcresources.k8s.aws%2Ftrunk-eni-id&Filter.1.Value.1=${trunkTag}&Filter.2.Name=status&Filter.2.Value.1=available`;
  const started = performance.now();
  const rounds = 50;
  let matched = 0;
  for (let i = 0; i < rounds; i++) {
    const out = emulator.handle({ method: 'POST', path: '/', rawQuery: '', headers: {}, body });
    matched = (out.body.match(/<networkInterfaceId>/g) ?? []).length;
  }
  const filteredMs = (performance.now() - started) / rounds;
  const dump = control.dump();
  process.stdout.write(
    `${JSON.stringify({
      instances: dump.instances.length,
      enis: dump.networkInterfaces.length,
      heapUsedMb: (loaded.heapUsed - baseline.heapUsed) / 2 ** 20,
      rssMb: loaded.rss / 2 ** 20,
      filteredDescribeMs: filteredMs,
      filteredDescribeMatches: matched,
    })}\n`,
  );
}

function startServer(): Promise<{ child: ChildProcess; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--port', '0', '--seed-file', SEED], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"endpoint":"([^"]+)"/.exec(out);
      if (match?.[1]) resolve({ child, endpoint: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited early (${code})`)));
  });
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface Rate {
  wallCallsPerSecond: number;
  /** Calls per CPU-second of the emulator process: its one-core capacity, independent of machine load. */
  callsPerCpuSecond: number | undefined;
}

async function throughput(seconds: number, concurrency: number): Promise<Record<string, Rate>> {
  const { child, endpoint } = await startServer();
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const calls: Record<string, string> = {
    DescribeVpcs: 'Action=DescribeVpcs&Version=2016-11-15',
    DescribeNetworkInterfacesById: '',
    DescribeInstancesFiltered:
      'Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=eks-workshop-node-1',
  };
  const dump = (await (await fetch(`${endpoint}/_emulator/dump`, { method: 'POST' })).json()) as {
    networkInterfaces: { id: string }[];
  };
  calls.DescribeNetworkInterfacesById = `Action=DescribeNetworkInterfaces&Version=2016-11-15&NetworkInterfaceId.1=${dump.networkInterfaces[0]?.id ?? ''}`;
  const rates: Record<string, Rate> = {};
  try {
    // Warm-up: let the JIT settle before anything is measured.
    for (let i = 0; i < 2000; i++) await post(agent, url, calls.DescribeVpcs ?? '');
    for (const [name, body] of Object.entries(calls)) {
      const cpuBefore = cpuSeconds(child.pid);
      const deadline = performance.now() + (seconds * 1000) / Object.keys(calls).length;
      let done = 0;
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            if ((await post(agent, url, body)) === 200) done++;
            else failed++;
          }
        }),
      );
      if (failed > 0) throw new Error(`${name}: ${failed} calls failed`);
      const cpuAfter = cpuSeconds(child.pid);
      const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
      rates[name] = {
        wallCallsPerSecond: done / ((performance.now() - started) / 1000),
        callsPerCpuSecond: cpu ? done / cpu : undefined,
      };
    }
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
  return rates;
}

function memory(instances: number, enis: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(
      process.execPath,
      ['--expose-gc', self, '--memory-child', '--instances', String(instances), '--enis', String(enis)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Record<string, number>)
        : reject(new Error(`memory child exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const full = values.full ?? false;
  const instances = Number(values.instances ?? (full ? 5000 : 500));
  const enis = Number(values.enis ?? (full ? 95_000 : 9_500));
  if (values['memory-child']) {
    await memoryChild(instances, enis);
    return;
  }
  const seconds = Number(values.seconds ?? (full ? 10 : 3));
  const concurrency = Number(values.concurrency ?? 16);
  const rates = await throughput(seconds, concurrency);
  const mem = await memory(instances, enis);
  // Per-core figure: calls per CPU-second of the emulator process (wall-clock rates depend on machine load).
  const perCore = Object.values(rates).map((r) => r.callsPerCpuSecond ?? r.wallCallsPerSecond);
  const minRate = Math.min(...perCore);
  const result = {
    throughput: { seconds, concurrency, rates, minCallsPerCoreSecond: minRate, target: 3000, ok: minRate >= 3000 },
    memory: { ...mem, targetMb: 500, ok: (mem.rssMb ?? Infinity) < 500 },
  };
  process.stdout.write(`${JSON.stringify(result)}\n\n`);
  const rows: [string, string, string][] = [
    ...Object.entries(rates).flatMap(([name, rate]): [string, string, string][] => [
      [`${name} calls per emulator CPU-second`, (rate.callsPerCpuSecond ?? NaN).toFixed(0), '>= 3000'],
      ['  wall-clock calls/s (shared machine)', rate.wallCallsPerSecond.toFixed(0), ''],
    ]),
    [`state ${mem.instances} instances + ${mem.enis} ENIs: heap MB`, (mem.heapUsedMb ?? 0).toFixed(1), ''],
    ['  process RSS MB', (mem.rssMb ?? 0).toFixed(1), '< 500'],
    [`  tag-filtered describe (${mem.filteredDescribeMatches} hits) ms`, (mem.filteredDescribeMs ?? 0).toFixed(2), ''],
  ];
  for (const [name, value, target] of rows)
    process.stdout.write(`${name.padEnd(58)} ${value.padStart(10)}  ${target}\n`);
}

await main();
