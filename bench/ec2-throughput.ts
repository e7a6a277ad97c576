/**
 * How much of EC2's budget the rate limiter spends, and whether it ever draws RequestLimitExceeded.
 *
 * Runs CreateNetworkInterface (bucket 100 / 5 per s) as fast as the limiter allows against hack/ec2-emulator
 * with AWS's buckets on, for a burst of `--duration-seconds` (default 10; `--duration-seconds 60` for the full
 * run), and reports the sustained rate — calls beyond our burst allowance per second of the run — as a
 * fraction of the bucket's refill rate (1.0 = the whole budget spent), plus the throttled responses drawn. `--scale` multiplies both the emulator's and our buckets.
 *
 *   node bench/ec2-throughput.ts [--duration-seconds 60] [--scale 1] [--workers 64]
 */
import { parseArgs } from 'node:util';
import { startEc2Emulator } from '../hack/ec2-emulator/index.ts';
import { clientToken, createEc2Api, DEFAULT_BUCKETS } from '../operator/aws/index.ts';

const { values } = parseArgs({
  options: {
    'duration-seconds': { type: 'string', default: '10' },
    scale: { type: 'string', default: '1' },
    workers: { type: 'string', default: '64' },
  },
});
const durationMs = Number(values['duration-seconds']) * 1000;
const scale = Number(values.scale);
const workers = Number(values.workers);

const emulator = await startEc2Emulator({ port: 0, throttling: { enabled: true, scale }, latency: true });
const seeded = emulator.control.seed({
  vpcs: [
    {
      cidrBlocks: ['10.0.0.0/16'],
      subnets: [{ cidrBlock: '10.0.0.0/16', availabilityZone: 'us-west-2a', tags: { Name: 'bench' } }],
      securityGroups: [{ name: 'bench' }],
    },
  ],
});
const subnetId = seeded.subnetIds[0] ?? '';
const ec2 = createEc2Api({
  region: 'us-west-2',
  endpoint: emulator.endpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  buckets: { scale },
});

const bucket = DEFAULT_BUCKETS.CreateNetworkInterface;
const refillPerSecond = bucket.refillPerSecond * scale;
const completions: number[] = [];
const started = performance.now();
let sequence = 0;
let failures = 0;
await Promise.all(
  Array.from({ length: workers }, async () => {
    while (performance.now() - started < durationMs) {
      const n = (sequence += 1);
      try {
        await ec2.createNetworkInterface({
          subnetId,
          securityGroupIds: [],
          description: 'bench',
          tags: { bench: 'yes' },
          clientToken: clientToken('bench', `eni-${n}`),
        });
        completions.push(performance.now() - started);
      } catch {
        failures += 1;
      }
    }
  }),
);
const elapsedS = (performance.now() - started) / 1000;
const counters = emulator.control.counters().CreateNetworkInterface ?? { calls: 0, errors: 0, throttled: 0 };
// Sustained rate: what was done beyond our burst allowance (capacity less headroom), over the whole run.
const burstAllowance = ec2.limiter.capacity('CreateNetworkInterface');
const steadyRate = (completions.length - burstAllowance) / elapsedS;
const result = {
  action: 'CreateNetworkInterface',
  durationSeconds: elapsedS,
  scale,
  workers,
  bucket: { capacity: bucket.capacity * scale, refillPerSecond, operatorBurstAllowance: burstAllowance },
  calls: completions.length,
  failures,
  throttledResponses: counters.throttled,
  overallRatePerSecond: completions.length / elapsedS,
  sustainedRatePerSecond: steadyRate,
  sustainedRateFractionOfRefill: steadyRate / refillPerSecond,
};
ec2.destroy();
await emulator.stop();
console.log(JSON.stringify(result, null, 2));
console.table({
  calls: result.calls,
  'throttled responses': result.throttledResponses,
  'refill /s': refillPerSecond,
  'sustained rate /s': Number(steadyRate.toFixed(2)),
  'fraction of refill': Number(result.sustainedRateFractionOfRefill.toFixed(3)),
});
