/**
 * Just enough X.509 to issue the webhook's own CA and serving certificate: DER encoding of a v3 certificate
 * (RFC 5280) signed with ECDSA P-256 / SHA-256 by node:crypto.
 *
 * Why not a library: node:crypto parses and verifies certificates (X509Certificate) but cannot build them,
 * and the operator image is distroless, so the `openssl` CLI is not there. The candidates on npm either
 * need a global `reflect-metadata` polyfill and a dozen transitive packages (@peculiar/x509 2.x) or do RSA
 * signing in pure JavaScript (node-forge). The encoding below is a fixed, small subset of DER; the
 * cryptography (key generation, signing) is node:crypto's. The unit tests parse every certificate back
 * with X509Certificate and check the chain, and the integration tests have kube-apiserver (Go's strict
 * crypto/x509) verify it on every admission call.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface IssuedCertificate {
  /** PEM of the certificate. */
  certPem: string;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  privateKey: KeyObject;
  /** DER of the subject Name, reused byte for byte as the issuer of certificates this one signs. */
  subjectDer: Buffer;
  /** Subject key identifier, reused as the authority key identifier of certificates this one signs. */
  keyId: Buffer;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateAuthorityOptions {
  commonName: string;
  /** Goes into the subject's OU, so a caBundle shared by several replicas says which CA is whose. */
  organizationalUnit: string;
  notBefore: Date;
  notAfter: Date;
}

/** A self-signed CA that may sign leaf certificates only (pathLen 0). */
export function issueCertificateAuthority(options: CertificateAuthorityOptions): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = name([
    [OID.organizationalUnit, options.organizationalUnit],
    [OID.commonName, options.commonName],
  ]);
  const keyId = subjectKeyId(spki);
  const extensions = [
    extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
    extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
  ];
  return finish({ subject, issuer: subject, spki, extensions, signer: privateKey, privateKey, keyId, ...options });
}

export interface ServingCertificateOptions {
  issuer: IssuedCertificate;
  commonName: string;
  /** DNS names and IP addresses (v4 or v6) the certificate is valid for; Go ignores the CN, so these matter. */
  hosts: readonly string[];
  notBefore: Date;
  notAfter: Date;
}

/** A TLS server certificate for `hosts`, signed by `issuer`. */
export function issueServingCertificate(options: ServingCertificateOptions): IssuedCertificate {
  if (options.hosts.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = name([[OID.commonName, options.commonName]]);
  const keyId = subjectKeyId(spki);
  const altNames = options.hosts.map((host) =>
    isIP(host) ? tagged(0x87, ipAddressBytes(host)) : tagged(0x82, Buffer.from(host, 'ascii')),
  );
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature)),
    extension(OID.extKeyUsage, false, sequence(objectId(OID.serverAuth))),
    extension(OID.subjectAltName, false, sequence(...altNames)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(tagged(0x80, options.issuer.keyId))),
  ];
  return finish({
    subject,
    issuer: options.issuer.subjectDer,
    spki,
    extensions,
    signer: options.issuer.privateKey,
    privateKey,
    keyId,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
  });
}

interface Parts {
  subject: Buffer;
  issuer: Buffer;
  spki: Buffer;
  extensions: Buffer[];
  signer: KeyObject;
  privateKey: KeyObject;
  keyId: Buffer;
  notBefore: Date;
  notAfter: Date;
}

function finish(parts: Parts): IssuedCertificate {
  const algorithm = sequence(objectId(OID.ecdsaWithSha256));
  const tbs = sequence(
    tagged(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version: v3
    integer(serialNumber()),
    algorithm,
    parts.issuer,
    sequence(time(parts.notBefore), time(parts.notAfter)),
    parts.subject,
    parts.spki,
    tagged(0xa3, sequence(...parts.extensions)), // [3] EXPLICIT extensions
  );
  const signature = sign('sha256', tbs, { key: parts.signer, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return {
    certPem: pem('CERTIFICATE', der),
    keyPem: parts.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey: parts.privateKey,
    subjectDer: parts.subject,
    keyId: parts.keyId,
    notBefore: parts.notBefore,
    notAfter: parts.notAfter,
  };
}

const OID = {
  commonName: '2.5.4.3',
  organizationalUnit: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** KeyUsage bits as they sit in the first byte of the BIT STRING (bit 0 is the most significant). */
const KEY_USAGE = { digitalSignature: 0x80, keyCertSign: 0x04, cRLSign: 0x02 } as const;

function encode(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else if (length < 0x100) header = Buffer.from([tag, 0x81, length]);
  else if (length < 0x10000) header = Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  else throw new Error(`DER value of ${length} bytes is larger than a certificate field can be`);
  return Buffer.concat([header, content]);
}

const tagged = encode;
const sequence = (...items: Buffer[]): Buffer => encode(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => encode(0x31, Buffer.concat(items));
const octetString = (bytes: Buffer): Buffer => encode(0x04, bytes);
const boolean = (value: boolean): Buffer => encode(0x01, Buffer.from([value ? 0xff : 0x00]));
const utf8String = (value: string): Buffer => encode(0x0c, Buffer.from(value, 'utf8'));
const bitString = (bytes: Buffer, unusedBits = 0): Buffer =>
  encode(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));

/** A non-negative INTEGER from big-endian magnitude bytes (a leading 0x00 keeps the sign bit clear). */
function integer(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = (trimmed[0] ?? 0) & 0x80;
  return encode(0x02, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function objectId(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return encode(0x06, Buffer.from(bytes));
}

function name(attributes: ReadonlyArray<readonly [string, string]>): Buffer {
  return sequence(...attributes.map(([oid, value]) => set(sequence(objectId(oid), utf8String(value)))));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050
    ? encode(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : encode(0x18, Buffer.from(digits, 'ascii'));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(objectId(oid), boolean(true), octetString(value))
    : sequence(objectId(oid), octetString(value));
}

function keyUsage(bits: number): Buffer {
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return bitString(Buffer.from([bits]), unused);
}

/** RFC 5280 §4.2.1.2 leaves the method open; a SHA-1 of the SubjectPublicKeyInfo is unique enough. */
function subjectKeyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

/** 16 random bytes with the top bit cleared: positive, at most 20 octets, as RFC 5280 §4.1.2.2 asks. */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}

function ipAddressBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand '::' and pack eight 16-bit groups.
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
