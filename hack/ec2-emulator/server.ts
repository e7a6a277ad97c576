import type { Ec2EmulatorOptions, RunningEc2Emulator } from './types.ts';

/** Starts the emulator on 127.0.0.1 (placeholder until the server lands in the next commit). */
export async function startEc2Emulator(_options: Ec2EmulatorOptions = {}): Promise<RunningEc2Emulator> {
  throw new Error('ec2-emulator: server not implemented yet');
}
