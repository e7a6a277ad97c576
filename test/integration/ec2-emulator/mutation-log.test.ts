/**
 * The emulator's mutation log, which tests use to prove that an ENI was never deleted (or only after its
 * owner went): what took effect is logged with the ENI's tags as they were before the call, and what EC2
 * refused is not.
 */
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, expect, test } from '@jest/globals';
import { type Fixture, SUBNET_A, clientFor, startFixture, stopFixture } from './fixture.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await stopFixture(fx);
  fx = undefined;
});

test('a create is logged with its new ENI and tags; a delete that took effect with the ENI tags, even when its response was lost; refused calls are not', async () => {
  fx = await startFixture();
  const created = await fx.ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: SUBNET_A,
      TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'owner', Value: 'pod-1' }] }],
    }),
  );
  const eniId = created.NetworkInterface?.NetworkInterfaceId ?? '';
  await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  const noRetry = clientFor(fx.emulator.endpoint, { maxAttempts: 1 });
  fx.emulator.control.setFaults([{ action: 'DeleteNetworkInterface', code: 'InternalError', count: 1 }]);
  await expect(noRetry.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }))).rejects.toThrow();
  fx.emulator.control.setFaults([
    { action: 'DeleteNetworkInterface', code: 'InternalError', phase: 'after', count: 1 },
  ]);
  await expect(noRetry.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }))).rejects.toThrow();
  noRetry.destroy();

  const log = fx.emulator.control.mutations();
  expect(log.map(({ seq, action, networkInterfaceId, tags }) => ({ seq, action, networkInterfaceId, tags }))).toEqual([
    { seq: 1, action: 'CreateNetworkInterface', networkInterfaceId: eniId, tags: { owner: 'pod-1' } },
    { seq: 2, action: 'DeleteNetworkInterface', networkInterfaceId: eniId, tags: { owner: 'pod-1' } },
  ]);
  expect(log[1]?.atMs).toBeGreaterThanOrEqual(log[0]?.atMs ?? Infinity);
  fx.emulator.control.reset();
  expect(fx.emulator.control.mutations()).toEqual([]);
});
