import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, test } from '@jest/globals';
import { IMDS_HOST_INSTANCE_ID } from '../../../hack/ec2-emulator/imds.ts';
import { type Fixture, startFixture, stopFixture } from './fixture.ts';

/**
 * The instance metadata service the emulator serves for programs that read their region and account from it
 * (EKS's VPC resource controller, through aws-sdk-go-v2's imds client): IMDSv2 as on an instance with
 * `HttpTokens=required`.
 */
let fx: Fixture | undefined;
afterEach(async () => {
  await stopFixture(fx);
  fx = undefined;
});

async function token(endpoint: string, ttl = '21600'): Promise<{ status: number; token: string; ttl: string | null }> {
  const response = await fetch(`${endpoint}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl },
  });
  return {
    status: response.status,
    token: await response.text(),
    ttl: response.headers.get('x-aws-ec2-metadata-token-ttl-seconds'),
  };
}

async function get(endpoint: string, path: string, sessionToken?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${endpoint}${path}`, {
    headers: sessionToken === undefined ? {} : { 'x-aws-ec2-metadata-token': sessionToken },
  });
  return { status: response.status, body: await response.text() };
}

describe('instance metadata service (IMDSv2)', () => {
  test('a session token, then the region and the identity document of the emulated account', async () => {
    fx = await startFixture({ accountId: '123456789012' });
    const session = await token(fx.emulator.endpoint);
    expect({ status: session.status, ttl: session.ttl, hasToken: session.token.length >= 32 }).toEqual({
      status: 200,
      ttl: '21600',
      hasToken: true,
    });
    expect(await get(fx.emulator.endpoint, '/latest/meta-data/placement/region', session.token)).toEqual({
      status: 200,
      body: 'us-west-2',
    });
    const document = await get(fx.emulator.endpoint, '/latest/dynamic/instance-identity/document', session.token);
    expect(document.status).toBe(200);
    expect(JSON.parse(document.body)).toMatchObject({
      accountId: '123456789012',
      region: 'us-west-2',
      availabilityZone: 'us-west-2a',
      instanceId: IMDS_HOST_INSTANCE_ID,
      version: '2017-09-30',
    });
  });

  test.each([
    ['no TTL header', undefined, 400],
    ['TTL 0', '0', 400],
    ['TTL above 6 hours', '21601', 400],
  ])('a token request with %s is refused', async (_name, ttl, status) => {
    fx = await startFixture();
    const response = await fetch(`${fx.emulator.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: ttl === undefined ? {} : { 'x-aws-ec2-metadata-token-ttl-seconds': ttl },
    });
    expect(response.status).toBe(status);
  });

  test('reads without a token, or with an unknown one, are refused with 401 (IMDSv1 is off)', async () => {
    fx = await startFixture();
    expect((await get(fx.emulator.endpoint, '/latest/meta-data/placement/region')).status).toBe(401);
    expect((await get(fx.emulator.endpoint, '/latest/meta-data/placement/region', 'not-a-token')).status).toBe(401);
  });

  test('a token is not taken by GET, and an unknown path is 404', async () => {
    fx = await startFixture();
    expect((await fetch(`${fx.emulator.endpoint}/latest/api/token`)).status).toBe(405);
    const session = await token(fx.emulator.endpoint);
    expect((await get(fx.emulator.endpoint, '/latest/meta-data/no-such-key', session.token)).status).toBe(404);
  });

  test('the EC2 Query endpoint on the same port is unaffected', async () => {
    fx = await startFixture();
    const vpcs = await fx.ec2.send(new DescribeVpcsCommand({}));
    expect(vpcs.Vpcs?.length).toBeGreaterThan(0);
  });
});
