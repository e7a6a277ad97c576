/**
 * The admission.k8s.io/v1 wire format, reduced to what the pod webhooks read and write, and the response
 * builders every handler uses. Shapes follow k8s.io/api/admission/v1 (AdmissionReview, AdmissionRequest,
 * AdmissionResponse); fields we do not read are left out rather than typed loosely.
 */
import type { ObjectMeta } from '../framework/meta.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionUserInfo {
  username?: string;
  groups?: string[];
}

/** What of a Pod the webhooks read. The API server sends the whole object; extra fields pass through. */
export interface AdmissionPod {
  apiVersion?: string;
  kind?: string;
  metadata: Partial<ObjectMeta> & { generateName?: string };
  spec?: {
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers?: AdmissionContainer[];
  };
}

export interface AdmissionContainer {
  name: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface AdmissionRequest<T = AdmissionPod> {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo: AdmissionUserInfo;
  object?: T;
  oldObject?: T;
  dryRun?: boolean;
}

export interface AdmissionStatus {
  code: number;
  reason?: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch document. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview<T = AdmissionPod> {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest<T>;
  response?: AdmissionResponse;
}

export interface JsonPatchAdd {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

/**
 * A handler's verdict before it is put on the wire. `reason` is a stable, machine-readable word for logs
 * and metrics; the message is what the user sees in `kubectl` output.
 */
export type AdmissionVerdict =
  /** `warnings` reach the user as kubectl's "Warning:" lines (admission warnings, at most a few short ones). */
  | { kind: 'allow'; reason: string; warnings?: string[] }
  | { kind: 'patch'; reason: string; patch: JsonPatchAdd[] }
  | { kind: 'deny'; reason: string; message: string; code: 403 | 500 };

export function toAdmissionResponse(uid: string, verdict: AdmissionVerdict): AdmissionResponse {
  switch (verdict.kind) {
    case 'allow':
      return verdict.warnings?.length ? { uid, allowed: true, warnings: verdict.warnings } : { uid, allowed: true };
    case 'patch':
      return {
        uid,
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(verdict.patch)).toString('base64'),
      };
    case 'deny':
      return {
        uid,
        allowed: false,
        status: {
          code: verdict.code,
          reason: verdict.code === 403 ? 'Forbidden' : 'InternalError',
          message: verdict.message,
        },
      };
    default: {
      const unreachable: never = verdict;
      return unreachable;
    }
  }
}

/** RFC 6901: '~' and '/' inside one path segment. */
export function escapeJsonPointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** "namespace/name" of the pod under review, for messages; generateName pods have no name yet. */
export function describePod(request: AdmissionRequest): string {
  const pod = request.object ?? request.oldObject;
  const namespace = pod?.metadata.namespace || request.namespace || '';
  const name =
    pod?.metadata.name || request.name || (pod?.metadata.generateName ? `${pod.metadata.generateName}*` : '');
  return `${namespace}/${name}`;
}
