import { X509Certificate } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { issueCertificateAuthority, issueServingCertificate } from '../../../operator/certificates/x509.ts';
import {
  createSelfSignedCertificateSource,
  mergeCaBundle,
  nextRotationStep,
  splitPems,
} from '../../../operator/certificates/index.ts';
import { silentLogger } from '../../../operator/observability/logger.ts';

const HOUR = 3600_000;
const T0 = Date.UTC(2026, 0, 1);

describe('x509', () => {
  test('issues a CA and a serving certificate that chain, for DNS names and IPs', () => {
    const ca = issueCertificateAuthority({
      commonName: 'sgp-operator webhook CA',
      organizationalUnit: 'sgp-operator-7d9f-abc',
      notBefore: new Date(T0),
      notAfter: new Date(T0 + 48 * HOUR),
    });
    const leaf = issueServingCertificate({
      issuer: ca,
      commonName: 'sgp-operator-webhook',
      hosts: ['sgp-operator-webhook.sgp-system.svc', '127.0.0.1', '::1'],
      notBefore: new Date(T0),
      notAfter: new Date(T0 + 24 * HOUR),
    });
    const caCert = new X509Certificate(ca.certPem);
    const leafCert = new X509Certificate(leaf.certPem);
    expect({
      caSubject: caCert.subject,
      isCa: caCert.ca,
      caSelfSigned: caCert.verify(caCert.publicKey),
      leafIsCa: leafCert.ca,
      altNames: leafCert.subjectAltName,
      chains: leafCert.checkIssued(caCert) && leafCert.verify(caCert.publicKey),
      ip: leafCert.checkIP('127.0.0.1'),
      host: leafCert.checkHost('sgp-operator-webhook.sgp-system.svc'),
      validTo: new Date(leafCert.validTo).getTime(),
    }).toEqual({
      caSubject: 'OU=sgp-operator-7d9f-abc\nCN=sgp-operator webhook CA',
      isCa: true,
      caSelfSigned: true,
      leafIsCa: false,
      altNames: 'DNS:sgp-operator-webhook.sgp-system.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
      chains: true,
      ip: '127.0.0.1',
      host: 'sgp-operator-webhook.sgp-system.svc',
      validTo: T0 + 24 * HOUR,
    });
  });

  test('a certificate from another CA does not chain', () => {
    const window = { notBefore: new Date(T0), notAfter: new Date(T0 + HOUR) };
    const ca = issueCertificateAuthority({ commonName: 'a', organizationalUnit: 'a', ...window });
    const other = issueCertificateAuthority({ commonName: 'b', organizationalUnit: 'b', ...window });
    const leaf = new X509Certificate(
      issueServingCertificate({ issuer: ca, commonName: 'x', hosts: ['127.0.0.1'], ...window }).certPem,
    );
    expect(leaf.verify(new X509Certificate(other.certPem).publicKey)).toBe(false);
  });
});

describe('nextRotationStep', () => {
  const active = { notBeforeMs: T0, notAfterMs: T0 + 30 * HOUR };
  test.each([
    {
      name: 'fresh certificate waits until two thirds of its life',
      pending: undefined,
      now: T0,
      step: { action: 'wait', untilMs: T0 + 20 * HOUR },
    },
    {
      name: 'one ms before two thirds still waits',
      pending: undefined,
      now: T0 + 20 * HOUR - 1,
      step: { action: 'wait', untilMs: T0 + 20 * HOUR },
    },
    {
      name: 'at two thirds prepares the next one',
      pending: undefined,
      now: T0 + 20 * HOUR,
      step: { action: 'prepare' },
    },
    {
      name: 'pending waits for the activation delay',
      pending: T0 + 20 * HOUR,
      now: T0 + 20 * HOUR + 59_999,
      step: { action: 'wait', untilMs: T0 + 20 * HOUR + 60_000 },
    },
    {
      name: 'pending activates after the delay',
      pending: T0 + 20 * HOUR,
      now: T0 + 20 * HOUR + 60_000,
      step: { action: 'activate' },
    },
  ])('$name', ({ pending, now, step }) => {
    expect(nextRotationStep(active, pending, now, 60_000)).toEqual(step);
  });
});

describe('self-signed certificate source', () => {
  test('rotates in two phases: the new CA is published before the server presents its certificate', async () => {
    let now = T0;
    const source = createSelfSignedCertificateSource({
      hosts: ['127.0.0.1'],
      identity: 'replica-a',
      clock: { now: () => now },
      log: silentLogger,
      validityMs: 3 * HOUR,
      activationDelayMs: 60_000,
    });
    const firstCert = source.serving().certPem;
    const [firstCa] = source.caCertificates() ?? [];
    const changes: Array<{ serving: string; cas: readonly string[] }> = [];
    const controller = new AbortController();
    source.onChange(() => {
      changes.push({ serving: source.serving().certPem, cas: source.caCertificates() ?? [] });
      now += 60_000; // the activation delay passes before the loop looks again
      if (changes.length === 2) controller.abort();
    });
    now = T0 + 2 * HOUR; // two thirds of three hours
    await source.run(controller.signal);

    expect(changes).toHaveLength(2);
    const [prepared, activated] = changes;
    expect(prepared?.serving).toBe(firstCert);
    expect(prepared?.cas).toHaveLength(2);
    expect(prepared?.cas[0]).toBe(firstCa);
    const nextCa = prepared?.cas[1] ?? '';
    expect(activated?.serving).not.toBe(firstCert);
    expect(new X509Certificate(activated?.serving ?? '').verify(new X509Certificate(nextCa).publicKey)).toBe(true);
    // The retired CA stays published until it expires.
    expect(activated?.cas).toEqual([nextCa, firstCa]);
  });
});

describe('mergeCaBundle', () => {
  const window = (fromMs: number, toMs: number): { notBefore: Date; notAfter: Date } => ({
    notBefore: new Date(fromMs),
    notAfter: new Date(toMs),
  });
  const ca = (identity: string, fromMs = T0 - 24 * HOUR, toMs = T0 + 24 * HOUR): string =>
    issueCertificateAuthority({
      commonName: 'sgp-operator webhook CA',
      organizationalUnit: identity,
      ...window(fromMs, toMs),
    }).certPem;
  const bundle = (...pems: string[]): string => Buffer.from(pems.join('')).toString('base64');
  const decode = (value: string): string[] => splitPems(Buffer.from(value, 'base64').toString());

  const mine = ca('a');
  const mineOld = ca('a');
  const theirs = ca('b');
  const expired = ca('c', T0 - 48 * HOUR, T0 - 1);
  const gone = ca('d');
  const goneButYoung = ca('e', T0 - 60_000);

  test.each([
    { name: 'empty bundle gets our CA', existing: undefined, expected: [mine] },
    { name: 'another replica’s CA is kept', existing: bundle(theirs), expected: [mine, theirs] },
    { name: 'our superseded CA is replaced', existing: bundle(mineOld, theirs), expected: [mine, theirs] },
    { name: 'an expired CA is dropped', existing: bundle(expired, theirs), expected: [mine, theirs] },
    { name: 'a gone replica’s CA is dropped', existing: bundle(gone, theirs), expected: [mine, theirs] },
    {
      name: 'a just-started replica’s CA is kept before caches know it',
      existing: bundle(goneButYoung),
      expected: [mine, goneButYoung],
    },
    {
      name: 'garbage is dropped',
      existing: bundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      expected: [mine],
    },
  ])('$name', ({ existing, expected }) => {
    const merged = mergeCaBundle({
      existing,
      own: [mine],
      ownIdentity: 'a',
      nowMs: T0,
      isLiveIdentity: (identity) => identity !== 'd' && identity !== 'e',
    });
    expect(decode(merged)).toEqual([...expected].sort());
  });

  test('is stable: merging twice, or from the other replica’s order, gives the same bytes', () => {
    const once = mergeCaBundle({ existing: bundle(theirs), own: [mine], ownIdentity: 'a', nowMs: T0 });
    const fromB = mergeCaBundle({ existing: once, own: [theirs], ownIdentity: 'b', nowMs: T0 });
    expect(fromB).toBe(once);
    expect(mergeCaBundle({ existing: once, own: [mine], ownIdentity: 'a', nowMs: T0 })).toBe(once);
  });
});
