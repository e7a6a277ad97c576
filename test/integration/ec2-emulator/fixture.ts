import { EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { readFileSync } from 'node:fs';
import {
  type Ec2EmulatorOptions,
  type RunningEc2Emulator,
  type Seed,
  startEc2Emulator,
} from '../../../hack/ec2-emulator/index.ts';

/** The workshop topology (hack/ec2-emulator/seeds/workshop.json) and the ids it names. */
export const WORKSHOP: Seed = JSON.parse(
  readFileSync(new URL('../../../hack/ec2-emulator/seeds/workshop.json', import.meta.url), 'utf8'),
) as Seed;
export const VPC = 'vpc-0e4c0a1b2c3d4e5f6';
export const SUBNET_A = 'subnet-0a1a1a1a1a1a1a1a1';
export const SUBNET_B = 'subnet-0b2b2b2b2b2b2b2b2';
export const NODE_SG = 'sg-0a0a0a0a0a0a0a0a0';
export const RDS_SG = 'sg-0b0b0b0b0b0b0b0b0';
export const NODE_1 = 'i-0a1b2c3d4e5f60001';
export const NODE_2 = 'i-0a1b2c3d4e5f60002';

export interface Fixture {
  emulator: RunningEc2Emulator;
  ec2: EC2Client;
}

/** An emulator on a random port seeded with the workshop topology, and a real SDK client aimed at it. */
export async function startFixture(options: Ec2EmulatorOptions = {}): Promise<Fixture> {
  const emulator = await startEc2Emulator({ seed: WORKSHOP, ...options });
  return { emulator, ec2: clientFor(emulator.endpoint) };
}

export function clientFor(endpoint: string, extra: { secretAccessKey?: string; maxAttempts?: number } = {}): EC2Client {
  return new EC2Client({
    region: 'us-west-2',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: extra.secretAccessKey ?? 'test' },
    maxAttempts: extra.maxAttempts ?? 3,
  });
}

export async function stopFixture(fixture: Fixture | undefined): Promise<void> {
  fixture?.ec2.destroy();
  await fixture?.emulator.stop();
}

export interface CaughtEc2Error {
  name: string;
  status: number | undefined;
  fault: string;
  attempts: number | undefined;
  message: string;
}

/** Runs a call that must fail and returns what the operator would see of the SDK error. */
export async function ec2Error(call: Promise<unknown>): Promise<CaughtEc2Error> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof EC2ServiceException)) throw error;
    return {
      name: error.name,
      status: error.$metadata.httpStatusCode,
      fault: error.$fault,
      attempts: error.$metadata.attempts,
      message: error.message,
    };
  }
  throw new Error('expected the EC2 call to fail, but it succeeded');
}

/** POSTs a raw Query body (for inputs the SDK would never produce). */
export async function rawCall(
  endpoint: string,
  body: string,
  method = 'POST',
): Promise<{ status: number; text: string; requestId: string | null }> {
  const response = await fetch(method === 'GET' ? `${endpoint}/?${body}` : `${endpoint}/`, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
    body: method === 'GET' ? undefined : body,
  });
  return { status: response.status, text: await response.text(), requestId: response.headers.get('x-amzn-requestid') };
}
