/**
 * The binary as the kubelet runs it: `node operator/main.ts` as a child process against the run's control
 * plane and an EC2 emulator. Checks what a Deployment relies on: bad configuration exits 2 naming every bad
 * flag; the probes and /metrics answer; SIGTERM releases the leader Lease and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startEc2Emulator } from '../../../hack/ec2-emulator/index.ts';
import { Kinds } from '../../../operator/api/kinds.ts';
import { createKubeClient, type Lease } from '../../../operator/framework/index.ts';
import { eventually, kubeConfig, testNamespace, uniqueName } from '../harness/index.ts';

const MAIN = new URL('../../../operator/main.ts', import.meta.url).pathname;
const VPC_ID = 'vpc-0123456789abcdef1';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function runMain(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function exitCodeOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('operator/main.ts', () => {
  let emulator: Awaited<ReturnType<typeof startEc2Emulator>>;
  beforeAll(async () => {
    emulator = await startEc2Emulator({
      seed: {
        vpcs: [
          {
            id: VPC_ID,
            cidrBlocks: ['10.1.0.0/16'],
            subnets: [{ cidrBlock: '10.1.0.0/24', availabilityZone: 'us-west-2a' }],
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  test('invalid configuration: exit 2, every bad flag named', async () => {
    const { child, output } = runMain(['--pod-workers=0', '--log-level=loud'], { SGP_REGION: 'nowhere' });
    expect(await exitCodeOf(child)).toBe(2);
    expect(
      output()
        .split('\n')
        .filter((line) => line.startsWith('  --')),
    ).toEqual([
      '  --cluster-name: required: it goes into every ENI tag and scopes every leak sweep; set --cluster-name=<value> or SGP_CLUSTER_NAME',
      '  --region: "nowhere" (from env SGP_REGION) is not valid: expected an AWS region such as eu-west-1',
      '  --pod-workers: "0" is out of range; use a value between 1 and 500',
      '  --log-level: "loud" is not one of debug, info, warn, error',
    ]);
  });

  test('serves the probes and /metrics, and on SIGTERM releases its Lease and exits 0', async () => {
    const namespace = await testNamespace('main');
    const leaseName = uniqueName('sgp-operator');
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const { child, output } = runMain(
      [
        `--cluster-name=${uniqueName('cluster')}`,
        `--vpc-id=${VPC_ID}`,
        '--enable-webhooks=false',
        '--leader-elect',
        `--leader-election-namespace=${namespace}`,
        `--leader-election-id=${leaseName}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        // Plain HTTP, as for `make run`; the HTTPS default is run by metrics-auth.test.ts and prometheus.test.ts.
        '--metrics-secure=false',
        `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      ],
      {
        KUBECONFIG: process.env.KUBECONFIG ?? '',
        AWS_REGION: 'us-west-2',
        AWS_ENDPOINT_URL_EC2: emulator.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
    );
    const client = createKubeClient(kubeConfig());
    try {
      await eventually(
        async () => {
          const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
          expect(ready.status).toBe(200);
          const lease = await client.get<Lease>(Kinds.Lease, `${namespace}/${leaseName}`);
          expect(lease?.spec?.holderIdentity).toMatch(/.+/);
        },
        { timeoutMs: 60_000, waitingFor: 'the operator to be ready and to hold the Lease' },
      );
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect([metrics.status, (await metrics.text()).includes('sgp_leader_election_is_leader 1')]).toEqual([200, true]);

      child.kill('SIGTERM');
      expect(await exitCodeOf(child)).toBe(0);
      const lease = await client.get<Lease>(Kinds.Lease, `${namespace}/${leaseName}`);
      expect(lease?.spec?.holderIdentity ?? '').toBe('');
    } catch (error) {
      throw new Error(`${String(error)}\noperator output:\n${output()}`, { cause: error });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
