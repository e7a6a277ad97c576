/**
 * hack/ec2-emulator: a local EC2 that the real @aws-sdk/client-ec2 talks to over HTTP (Query protocol,
 * 2016-11-15). Embed it in a test (`startEc2Emulator({ port: 0 })`) or run `node hack/ec2-emulator/cli.ts`.
 * See README.md in this folder for the seed format, the control API and the realism knobs.
 */
export { startEc2Emulator } from './server.ts';
export type * from './types.ts';
