/**
 * Serving certificates for the operator's HTTPS endpoints (the admission webhook and /metrics): self-signed
 * and rotated in memory, or read from a mounted directory (sources.ts); the DER encoder that issues them
 * (x509.ts); and the caBundle merge that lets every replica publish its own CA (ca-bundle.ts).
 */
export { mergeCaBundle, splitPems } from './ca-bundle.ts';
export {
  createDirectoryCertificateSource,
  createSelfSignedCertificateSource,
  nextRotationStep,
  DEFAULT_ACTIVATION_DELAY_MS,
  DEFAULT_CERTIFICATE_VALIDITY_MS,
} from './sources.ts';
export type { CertificateSource, ServingMaterial, SelfSignedOptions, DirectoryOptions } from './sources.ts';
