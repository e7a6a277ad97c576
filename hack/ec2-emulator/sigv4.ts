import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Ec2Fault } from './protocol/errors.ts';

/**
 * Optional SigV4 verification (docs/ec2-semantics.md#the-wire): re-sign the request as received with the caller's secret and compare.
 * Only the headers named in SignedHeaders take part, as in the SDK's signer.
 */
export interface SignedRequest {
  method: string;
  path: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

const encode = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return [...new URLSearchParams(rawQuery)]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const header = (request: SignedRequest, name: string): string => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
};

/** Throws AuthFailure (401) or SignatureDoesNotMatch (403) unless the signature verifies. */
export function verifySigV4(request: SignedRequest, credentials: Record<string, string>): void {
  const match = AUTH.exec(header(request, 'authorization'));
  if (!match) throw new Ec2Fault('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = match;
  const secret = credentials[accessKeyId];
  if (secret === undefined) {
    throw new Ec2Fault('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  }
  const names = signedHeaders.split(';');
  const canonicalRequest = [
    request.method,
    request.path,
    canonicalQuery(request.rawQuery),
    names.map((name) => `${name}:${header(request, name)}\n`).join(''),
    signedHeaders,
    header(request, 'x-amz-content-sha256') || sha256(request.body),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', header(request, 'x-amz-date'), scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = hmac(key, stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Ec2Fault(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
      403,
    );
  }
}
