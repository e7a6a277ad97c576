/**
 * The HTTPS admission server: AdmissionReview v1 in, AdmissionReview v1 out, on `/mutate-v1-pod`,
 * `/validate-v1-pod` and `/validate-security-group-annotations`. It serves on every replica (the API server
 * calls whichever endpoint the Service picks), reads policies, ServiceAccounts and Namespaces from the shared
 * informer caches, and hands them to the pure decisions in mutate.ts, validate.ts and validate-annotations.ts.
 * The serving certificate is swapped in place when the certificate source rotates it; connections already
 * open finish on the old one.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecurityGroupGrant, SecurityGroupPolicy } from '../api/types.ts';
import type { AnnotationScope, SecurityGroupAnnotationRule } from '../controllers/pod/index.ts';
import type { KubeObject, Reader, Runnable } from '../framework/types.ts';
import type { Logger } from '../observability/logger.ts';
import {
  securityGroupAnnotationRefusalsTotal,
  webhookCertificateExpiryTimestampSeconds,
  webhookRequestDurationSeconds,
  webhookRequestsTotal,
} from '../observability/metrics.ts';
import {
  ADMISSION_API_VERSION,
  describePod,
  toAdmissionResponse,
  type AdmissionRequest,
  type AdmissionReview,
  type AdmissionVerdict,
} from './admission.ts';
import type { CertificateSource } from './certificates.ts';
import {
  MUTATE_POD_PATH,
  VALIDATE_ANNOTATIONS_PATH,
  VALIDATE_POD_PATH,
  VALIDATE_POLICY_PATH,
} from './configuration.ts';
import { decidePodMutation, type PodPolicyMatcher, type ServiceAccountLike } from './mutate.ts';
import { decidePodValidation } from './validate.ts';
import { decideSecurityGroupAnnotationAdmission, type AnnotatedObject } from './validate-annotations.ts';
import { decidePolicyAdmission } from './validate-policy.ts';

/** The API server caps request bodies at 3 MiB; an AdmissionReview carries the object twice on UPDATE. */
const MAX_BODY_BYTES = 7 * 1024 * 1024;

export interface WebhookServerOptions {
  /** Listen address; port 0 picks a free port (see `address()`). */
  address: { host: string; port: number };
  tls: CertificateSource;
  matcher: PodPolicyMatcher;
  /** Usernames allowed to write the pod-eni annotation: the operator's own, plus EKS's for drop-in. */
  operatorUsernames: readonly string[];
  policies: Reader<SecurityGroupPolicy>;
  serviceAccounts: Reader<ServiceAccountLike & { metadata: { name: string } }>;
  /** Namespace labels: the security-group annotation opt-in. */
  namespaces: Reader<KubeObject>;
  /** --enable-security-group-annotations and its allow-list. */
  securityGroupAnnotations: SecurityGroupAnnotationRule;
  /** SecurityGroupGrants, for the SecurityGroupPolicy webhook; absent: that path allows everything. */
  grants?: Reader<SecurityGroupGrant>;
  log: Logger;
}

export interface WebhookServer extends Runnable {
  /** The bound address once listening (for tests and logs). */
  address(): { host: string; port: number } | undefined;
  /** Resolves once the server accepts connections. */
  listening(): Promise<void>;
}

type WebhookName =
  'mutate-pod' | 'validate-pod' | 'validate-security-group-annotations' | 'validate-security-group-policy';

const WEBHOOK_PATHS: ReadonlyMap<string, WebhookName> = new Map([
  [MUTATE_POD_PATH, 'mutate-pod'],
  [VALIDATE_POD_PATH, 'validate-pod'],
  [VALIDATE_ANNOTATIONS_PATH, 'validate-security-group-annotations'],
  [VALIDATE_POLICY_PATH, 'validate-security-group-policy'],
]);

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  let server: Server | undefined;
  let resolveListening!: () => void;
  let rejectListening!: (error: unknown) => void;
  const listening = new Promise<void>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  // Start-up failures (a port in use) reach the caller through start(); keep a rejected listening()
  // promise from being reported as unhandled when nobody awaits it.
  listening.catch(() => undefined);

  const annotationScope = (namespace: string): AnnotationScope => ({
    namespaceLabels: options.namespaces.get(namespace)?.metadata.labels,
    rule: options.securityGroupAnnotations,
  });

  const decideAnnotations = (request: AdmissionRequest): AdmissionVerdict => {
    const namespace = request.object?.metadata.namespace || request.namespace || '';
    const { verdict, refusals } = decideSecurityGroupAnnotationAdmission(request as AdmissionRequest<AnnotatedObject>, {
      ...annotationScope(namespace),
      isNamespaceCached: options.namespaces.get(namespace) !== undefined,
    });
    for (const refusal of refusals)
      securityGroupAnnotationRefusalsTotal.inc({ where: 'admission', reason: refusal.reason });
    return verdict;
  };

  const decide = (webhook: WebhookName, request: AdmissionRequest): AdmissionVerdict => {
    if (webhook === 'validate-pod') return decidePodValidation(request, options.operatorUsernames);
    if (webhook === 'validate-security-group-annotations') return decideAnnotations(request);
    if (webhook === 'validate-security-group-policy') {
      const policyRequest = request as unknown as AdmissionRequest<SecurityGroupPolicy>;
      const namespace = policyRequest.object?.metadata.namespace || request.namespace || '';
      return decidePolicyAdmission(policyRequest, {
        grants: options.grants?.list() ?? [],
        isGrantsSynced: options.grants?.hasSynced() ?? true,
        namespaceLabels: options.namespaces.get(namespace)?.metadata.labels,
      });
    }
    if (!options.policies.hasSynced() || !options.serviceAccounts.hasSynced() || !options.namespaces.hasSynced()) {
      return {
        kind: 'deny',
        code: 500,
        reason: 'cache-not-synced',
        message:
          `sgp-operator is starting and has not yet read the SecurityGroupPolicies, so it cannot decide ` +
          `whether pod ${describePod(request)} needs a branch ENI; retry in a few seconds`,
      };
    }
    const namespace = request.object?.metadata.namespace || request.namespace || '';
    const serviceAccountName = request.object?.spec?.serviceAccountName || 'default';
    return decidePodMutation(request, {
      policies: options.policies.list(namespace),
      serviceAccount: options.serviceAccounts.get(`${namespace}/${serviceAccountName}`),
      matcher: options.matcher,
      annotations: annotationScope(namespace),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The API server appends ?timeout=<timeoutSeconds>s to the configured path.
    const path = (req.url ?? '').split('?')[0];
    const webhook = WEBHOOK_PATHS.get(path ?? '');
    if (!webhook) return reply(res, 404, { message: `no webhook at ${path}` });
    if (req.method !== 'POST') return reply(res, 405, { message: 'admission webhooks accept POST only' });
    const stopTimer = webhookRequestDurationSeconds.startTimer({ webhook });
    let review: AdmissionReview;
    try {
      review = parseReview(await readBody(req));
    } catch (error) {
      webhookRequestsTotal.inc({ webhook, result: 'error' });
      return reply(res, 400, { message: error instanceof Error ? error.message : String(error) });
    }
    const request = review.request as AdmissionRequest;
    let verdict: AdmissionVerdict;
    try {
      verdict = decide(webhook, request);
    } catch (error) {
      // A bug must not admit a pod unchecked in a namespace that relies on the webhook: deny and say so.
      options.log.error('admission decision failed', { webhook, pod: describePod(request), error });
      verdict = {
        kind: 'deny',
        code: 500,
        reason: 'internal-error',
        message: `sgp-operator could not decide on pod ${describePod(request)}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const result = verdict.kind === 'allow' ? 'allowed' : verdict.kind === 'patch' ? 'patched' : 'denied';
    webhookRequestsTotal.inc({ webhook, result: verdict.kind === 'deny' && verdict.code === 500 ? 'error' : result });
    if (verdict.kind !== 'allow') {
      options.log.info(verdict.kind === 'patch' ? 'requested pod eni resource' : 'denied pod admission', {
        webhook,
        pod: describePod(request),
        operation: request.operation,
        user: request.userInfo.username,
        reason: verdict.reason,
      });
    }
    const response: AdmissionReview = {
      apiVersion: ADMISSION_API_VERSION,
      kind: 'AdmissionReview',
      response: toAdmissionResponse(request.uid, verdict),
    };
    reply(res, 200, response);
    stopTimer();
  };

  return {
    name: 'webhook-server',
    needLeaderElection: false,
    address() {
      const bound = server?.address() as AddressInfo | null | undefined;
      return bound ? { host: bound.address, port: bound.port } : undefined;
    },
    listening: () => listening,
    async start(signal) {
      const initial = options.tls.serving();
      webhookCertificateExpiryTimestampSeconds.set(initial.notAfterMs / 1000);
      const https = createServer({ cert: initial.certPem, key: initial.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
        handle(req, res).catch((error: unknown) => {
          options.log.error('admission request failed', { error });
          if (!res.headersSent) reply(res, 500, { message: 'internal error' });
          else res.destroy();
        });
      });
      server = https;
      options.tls.onChange(() => {
        const next = options.tls.serving();
        https.setSecureContext({ cert: next.certPem, key: next.keyPem, minVersion: 'TLSv1.2' });
        webhookCertificateExpiryTimestampSeconds.set(next.notAfterMs / 1000);
      });
      // The API server gives up after timeoutSeconds (≤ 30 s); a slow or stuck client must not hold a socket.
      https.requestTimeout = 30_000;
      https.headersTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        https.once('error', reject);
        // An empty host means every interface, as in `--webhook-bind-address=:9443`.
        https.listen(options.address.port, options.address.host || undefined, () => {
          https.off('error', reject);
          resolve();
        });
      }).catch((error: unknown) => {
        rejectListening(error);
        throw new Error(
          `cannot listen for admission requests on ${options.address.host}:${options.address.port}: ` +
            `${error instanceof Error ? error.message : String(error)}; choose a free --webhook-port`,
          { cause: error },
        );
      });
      options.log.info('serving admission webhooks', { address: this.address() });
      resolveListening();
      const rotation = options.tls.run(signal);
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await new Promise<void>((resolve) => {
        https.close(() => resolve());
        https.closeAllConnections();
      });
      await rotation;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`admission request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseReview(body: string): AdmissionReview {
  const review = JSON.parse(body) as Partial<AdmissionReview>;
  if (review.apiVersion !== ADMISSION_API_VERSION || review.kind !== 'AdmissionReview') {
    throw new Error(`expected an ${ADMISSION_API_VERSION} AdmissionReview, got ${review.apiVersion}/${review.kind}`);
  }
  const request = review.request;
  if (!request || typeof request.uid !== 'string' || typeof request.operation !== 'string' || !request.userInfo) {
    throw new Error('AdmissionReview has no request with uid, operation and userInfo');
  }
  return review as AdmissionReview;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
