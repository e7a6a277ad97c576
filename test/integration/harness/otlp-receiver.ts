/**
 * A tiny OTLP trace receiver on loopback, enough to check what the operator exports: OTLP/HTTP with
 * protobuf bodies (`POST /v1/traces`, gzip or not) and OTLP/gRPC (`TraceService/Export` over cleartext
 * HTTP/2, as node:http2 serves it). Requests are decoded with a minimal protobuf wire reader into the few
 * fields the tests assert on (opentelemetry/proto/trace/v1/trace.proto): resource attributes, span names,
 * ids and parents.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttp2Server, constants as http2, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  /** Resource attributes of the batch the span came in (string, bool and number values). */
  resource: Record<string, string | number | boolean>;
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** e.g. http://127.0.0.1:4318 (OTEL_EXPORTER_OTLP_ENDPOINT for either protocol). */
  readonly endpoint: string;
  readonly spans: readonly ReceivedSpan[];
  /** Export requests by content type, e.g. { 'application/x-protobuf': 3 }. */
  readonly requests: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

const GRPC_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export async function startOtlpReceiver(protocol: 'http/protobuf' | 'grpc'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: Record<string, number> = {};
  const record = (contentType: string, body: Buffer) => {
    requests[contentType] = (requests[contentType] ?? 0) + 1;
    spans.push(...decodeExportTraceServiceRequest(body));
  };

  let server: Server | Http2Server;
  if (protocol === 'http/protobuf') {
    server = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const contentType = request.headers['content-type'] ?? '';
        if (request.method !== 'POST' || request.url !== '/v1/traces' || contentType !== 'application/x-protobuf') {
          response.writeHead(415).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        record(contentType, request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
        // An empty ExportTraceServiceResponse: everything accepted.
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
  } else {
    server = createHttp2Server();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        // gRPC framing: 1 byte compressed flag, 4 bytes length, then the message.
        const framed = Buffer.concat(chunks);
        if (headers[http2.HTTP2_HEADER_PATH] !== GRPC_EXPORT_PATH || framed[0] !== 0) {
          // UNIMPLEMENTED: another service, or a compressed message this receiver cannot read.
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
            { endStream: true },
          );
          return;
        }
        record('application/grpc', framed.subarray(5, 5 + framed.readUInt32BE(1)));
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- protobuf wire format, read-only ----

type Field = { number: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readVarint(buffer: Buffer, offset: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buffer[offset++];
    if (byte === undefined) throw new Error('truncated varint');
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, offset];
    shift += 7n;
  }
}

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [tag, next] = readVarint(buffer, offset);
    offset = next;
    const number = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0: {
        const [varint, after] = readVarint(buffer, offset);
        result.push({ number, varint });
        offset = after;
        break;
      }
      case 1:
        result.push({ number, fixed: buffer.subarray(offset, offset + 8) });
        offset += 8;
        break;
      case 2: {
        const [length, after] = readVarint(buffer, offset);
        result.push({ number, bytes: buffer.subarray(after, after + Number(length)) });
        offset = after + Number(length);
        break;
      }
      case 5:
        result.push({ number, fixed: buffer.subarray(offset, offset + 4) });
        offset += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type in field ${number}`);
    }
  }
  return result;
}

const all = (message: Buffer, number: number) =>
  fields(message)
    .filter((field) => field.number === number && field.bytes !== undefined)
    .map((field) => field.bytes as Buffer);
const first = (message: Buffer, number: number) => all(message, number)[0] ?? Buffer.alloc(0);

function anyValue(value: Buffer): string | number | boolean {
  for (const field of fields(value)) {
    if (field.number === 1 && field.bytes) return field.bytes.toString('utf8');
    if (field.number === 2 && field.varint !== undefined) return field.varint !== 0n;
    if (field.number === 3 && field.varint !== undefined) return Number(BigInt.asIntN(64, field.varint));
    if (field.number === 4 && field.fixed) return field.fixed.readDoubleLE(0);
  }
  return '';
}

function keyValues(message: Buffer, number: number): Record<string, string | number | boolean> {
  return Object.fromEntries(all(message, number).map((kv) => [first(kv, 1).toString('utf8'), anyValue(first(kv, 2))]));
}

/** ExportTraceServiceRequest → spans (resource_spans=1 → resource=1, scope_spans=2 → scope=1, spans=2). */
export function decodeExportTraceServiceRequest(body: Buffer): ReceivedSpan[] {
  return all(body, 1).flatMap((resourceSpans) => {
    const resource = keyValues(first(resourceSpans, 1), 1);
    return all(resourceSpans, 2).flatMap((scopeSpans) => {
      const scope = first(first(scopeSpans, 1), 1).toString('utf8');
      return all(scopeSpans, 2).map((span) => ({
        resource,
        scope,
        traceId: first(span, 1).toString('hex'),
        spanId: first(span, 2).toString('hex'),
        parentSpanId: first(span, 4).toString('hex'),
        name: first(span, 5).toString('utf8'),
        attributes: keyValues(span, 9),
      }));
    });
  });
}
