import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_METHODS, createControl, invokeControl } from './control.ts';
import { Emulator } from './emulator.ts';
import { IMDS_PREFIX, MetadataService } from './imds.ts';
import { Ec2Fault } from './protocol/errors.ts';
import { errorXml } from './protocol/xml.ts';
import type { Ec2EmulatorOptions, RunningEc2Emulator } from './types.ts';

/**
 * HTTP front: `/_emulator/<method>` is the JSON control API, `/latest/…` the instance metadata service (IMDSv2,
 * imds.ts), everything else is the EC2 Query endpoint.
 * Every response is XML or JSON — never HTML — and every EC2 response carries x-amzn-RequestId.
 */

const CONTROL_PREFIX = '/_emulator/';
/** Bodies larger than this are refused (EC2 itself limits requests to well under this). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Ec2Fault('InvalidParameterValue', 'Request body too large.', 413));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendEc2(response: ServerResponse, status: number, body: string, requestId: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/xml;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    Server: 'AmazonEC2',
  });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? { ok: true });
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

async function handleControl(
  control: ReturnType<typeof createControl>,
  method: string,
  body: string,
  response: ServerResponse,
): Promise<void> {
  if (!CONTROL_METHODS.has(method)) {
    sendJson(response, 404, { error: { code: 'UnknownControlMethod', message: `No control method '${method}'.` } });
    return;
  }
  try {
    const parsed: unknown = body.trim() === '' ? undefined : JSON.parse(body);
    sendJson(response, 200, invokeControl(control, method, parsed));
  } catch (error) {
    const code =
      error instanceof Ec2Fault ? error.code : error instanceof SyntaxError ? 'MalformedJson' : 'InternalError';
    sendJson(response, error instanceof Ec2Fault || error instanceof SyntaxError ? 400 : 500, {
      error: { code, message: error instanceof Error ? error.message : String(error) },
    });
  }
}

export async function startEc2Emulator(options: Ec2EmulatorOptions = {}): Promise<RunningEc2Emulator> {
  const emulator = new Emulator(options);
  const control = createControl(emulator);
  if (options.seed) control.seed(options.seed);
  const metadata = new MetadataService(() => emulator.store.config);

  const server = createServer((request, response) => {
    readBody(request)
      .then(async (body) => {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        if (url.pathname.startsWith(CONTROL_PREFIX)) {
          await handleControl(control, url.pathname.slice(CONTROL_PREFIX.length), body, response);
          return;
        }
        if (url.pathname.startsWith(IMDS_PREFIX)) {
          const answer = metadata.handle(request.method ?? 'GET', url.pathname, request.headers, Date.now());
          response.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
          response.end(answer.body);
          return;
        }
        const result = emulator.handle({
          method: request.method ?? 'POST',
          path: url.pathname,
          rawQuery: url.search.slice(1),
          headers: request.headers,
          body,
        });
        if (result.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
        sendEc2(response, result.status, result.body, result.requestId);
      })
      .catch((error: unknown) => {
        if (response.headersSent) return;
        const fault = error instanceof Ec2Fault ? error : new Ec2Fault('InternalError', String(error), 500);
        sendEc2(response, fault.status, errorXml(fault.code, fault.message, 'internal'), 'internal');
      });
  });
  server.keepAliveTimeout = 30_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    control,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
