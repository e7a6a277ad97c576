/**
 * Certificates for a local kube-apiserver, made with the `openssl` CLI (Node's crypto makes keys but not
 * X.509 certificates). One local CA signs the serving certificate (SANs localhost and 127.0.0.1: Go ignores
 * the CN) and the admin client certificate (O=system:masters, which bypasses RBAC); a separate key pair
 * signs ServiceAccount tokens. Everything is valid for 7 days and lives in the control plane's data dir.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ControlPlaneError } from './errors.ts';

const run = promisify(execFile);

export interface CertificatePaths {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
}

export function certificatePaths(dir: string): CertificatePaths {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPublicKey: join(dir, 'sa.pub'),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ControlPlaneError(
      `openssl ${args[0]} failed (${detail}); the local control plane needs the openssl CLI on PATH`,
      { cause: error },
    );
  }
}

const ecKey = (out: string): Promise<void> =>
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);

async function signed(
  paths: CertificatePaths,
  name: { key: string; cert: string; subject: string; extensions: string },
): Promise<void> {
  const csr = `${name.cert}.csr`;
  const ext = `${name.cert}.ext`;
  await ecKey(name.key);
  await openssl(['req', '-new', '-key', name.key, '-subj', name.subject, '-out', csr]);
  await writeFile(ext, name.extensions);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    paths.caCert,
    '-CAkey',
    paths.caKey,
    '-CAcreateserial',
    '-days',
    '7',
    '-extfile',
    ext,
    '-out',
    name.cert,
  ]);
}

/** Creates the certificates in `dir`, or reuses them when a previous run (persistent data dir) left them. */
export async function ensureCertificates(dir: string): Promise<CertificatePaths> {
  const paths = certificatePaths(dir);
  const all = Object.values(paths).filter((p) => p !== dir);
  if (all.every((p) => existsSync(p))) return paths;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await ecKey(paths.caKey);
  await openssl(
    ['req', '-x509', '-new', '-key', paths.caKey, '-subj', '/CN=sgp-operator-local-ca', '-days', '7'].concat([
      '-out',
      paths.caCert,
    ]),
  );
  await signed(paths, {
    key: paths.servingKey,
    cert: paths.servingCert,
    subject: '/CN=localhost',
    extensions: 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  });
  await signed(paths, {
    key: paths.adminKey,
    cert: paths.adminCert,
    subject: '/CN=admin/O=system:masters',
    extensions: 'extendedKeyUsage=clientAuth\n',
  });
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', paths.serviceAccountKey]);
  await openssl(['pkey', '-in', paths.serviceAccountKey, '-pubout', '-out', paths.serviceAccountPublicKey]);
  return paths;
}
