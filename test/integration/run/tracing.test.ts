/**
 * Traces as a collector receives them: the operator binary (`node operator/main.ts`) configured only by the
 * standard OTEL_* variables, exporting to an in-process OTLP receiver on loopback over http/protobuf and
 * over gRPC. A Node joins; the trunk reconcile that follows must arrive as a root span named after its
 * controller, with the EC2 calls it made as its children, under the service name and resource attributes
 * the variables gave. A private world (test/kit/world.ts): the operator watches every Node of the cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Kinds } from '../../../operator/api/kinds.ts';
import type { TrunkInterface } from '../../../operator/api/types.ts';
import { TRUNK_CONTROLLER_NAME } from '../../../operator/controllers/trunkinterface/index.ts';
import { RECONCILE_SPAN_ATTRIBUTES } from '../../../operator/framework/controller.ts';
import { REGION, startWorld, type World } from '../../kit/world.ts';
import { eventually, uniqueName } from '../harness/index.ts';
import { startOtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver.ts';

const MAIN = new URL('../../../operator/main.ts', import.meta.url).pathname;
let world: World;

beforeAll(async () => {
  world = await startWorld();
}, 90_000);

afterAll(async () => {
  await world?.stop();
});

function startOperator(otelEnv: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(
    process.execPath,
    [
      MAIN,
      `--cluster-name=${uniqueName('traces')}`,
      `--vpc-id=${world.vpcId}`,
      '--enable-webhooks=false',
      '--leader-elect=false',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
      '--log-level=debug',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        KUBECONFIG: world.plane.kubeconfigPath,
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_EC2: world.emulator.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        // Export within a fraction of a second instead of the batch processor's default 5 s.
        OTEL_BSP_SCHEDULE_DELAY: '200',
        ...otelEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** A Node joins and opts in through its CNINode, as kubelet and the VPC CNI would; resolves once its trunk is Ready. */
async function joinNode(): Promise<string> {
  const name = uniqueName('traced-node');
  await world.addNode(name, { optIn: 'cninode-feature' });
  await eventually(
    async () => {
      const trunk = await world.client.get<TrunkInterface>(Kinds.TrunkInterface, name);
      expect(trunk?.status?.state).toBe('Ready');
    },
    { waitingFor: `TrunkInterface ${name} Ready`, timeoutMs: 60_000 },
  );
  return name;
}

/** The trunk reconcile of `node` that made EC2 calls, and those calls. */
function trunkReconcileOf(spans: readonly ReceivedSpan[], node: string) {
  const reconciles = spans.filter(
    (span) =>
      span.name === `${TRUNK_CONTROLLER_NAME} reconcile` && span.attributes[RECONCILE_SPAN_ATTRIBUTES.key] === node,
  );
  for (const reconcile of reconciles) {
    const children = spans.filter((span) => span.parentSpanId === reconcile.spanId);
    if (children.some((span) => span.name.startsWith('EC2.'))) return { reconcile, children };
  }
  return undefined;
}

describe.each(['http/protobuf', 'grpc'] as const)('OTLP over %s', (protocol) => {
  test('a trunk reconcile arrives as a root span with its EC2 calls as children, under the configured service', async () => {
    const receiver = await startOtlpReceiver(protocol);
    const serviceName = uniqueName('sgp-traces');
    const { child, output } = startOperator({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: serviceName,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=integration,service.namespace=sgp-system',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    });
    try {
      const node = await joinNode();
      const found = await eventually(
        () => trunkReconcileOf(receiver.spans, node) ?? Promise.reject(new Error(`${receiver.spans.length} spans`)),
        { waitingFor: `the trunk reconcile of ${node} with EC2 children at the receiver`, timeoutMs: 30_000 },
      );
      expect(found.reconcile).toMatchObject({
        parentSpanId: '',
        scope: 'sgp-operator/framework',
        resource: {
          'service.name': serviceName,
          'service.namespace': 'sgp-system',
          'deployment.environment.name': 'integration',
          'telemetry.sdk.language': 'nodejs',
        },
        attributes: { [RECONCILE_SPAN_ATTRIBUTES.controller]: TRUNK_CONTROLLER_NAME },
      });
      expect(found.reconcile.traceId).toMatch(/^[0-9a-f]{32}$/);
      for (const ec2Call of found.children.filter((span) => span.name.startsWith('EC2.'))) {
        expect(ec2Call).toMatchObject({
          traceId: found.reconcile.traceId,
          scope: 'sgp-operator/aws',
          attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'EC2' },
        });
      }
      expect(found.children.map((span) => span.name)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^EC2\.(CreateNetworkInterface|AttachNetworkInterface)$/)]),
      );
      expect(Object.keys(receiver.requests)).toEqual([
        protocol === 'grpc' ? 'application/grpc' : 'application/x-protobuf',
      ]);
      // Log lines written inside a reconcile carry its trace id.
      child.kill('SIGTERM');
      expect((await once(child, 'exit'))[0]).toBe(0);
      const traced = output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => typeof line.trace_id === 'string');
      expect(traced.length).toBeGreaterThan(0);
      expect(traced.every((line) => receiver.spans.some((span) => span.traceId === line.trace_id))).toBe(true);
    } catch (error) {
      throw new Error(`${String(error)}\noperator output:\n${output()}`, { cause: error });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await receiver.stop();
    }
  });
});
