/**
 * Typed errors of the Kubernetes client. Callers test them with `instanceof`; each carries the kind and key
 * of the object it concerns and, for API failures, the HTTP status and the apiserver's Status reason.
 */
import { OperatorError } from '../errors.ts';
import type { ObjectKey, ResourceKind } from './types.ts';

export class KubeApiError extends OperatorError {
  readonly kind: ResourceKind;
  readonly key: ObjectKey | undefined;
  readonly statusCode: number;
  /** The Status object's `reason` (e.g. "Conflict", "AlreadyExists", "Invalid"), when the server sent one. */
  readonly reason: string | undefined;

  constructor(
    message: string,
    details: { kind: ResourceKind; key?: ObjectKey; statusCode: number; reason?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = details.kind;
    this.key = details.key;
    this.statusCode = details.statusCode;
    this.reason = details.reason;
  }
}

/** 404: the object (or its namespace) does not exist. */
export class KubeNotFoundError extends KubeApiError {}

/** 409: the object moved on (resourceVersion precondition failed) or already exists. Re-read and retry. */
export class KubeConflictError extends KubeApiError {}

/** 410: a list/watch resourceVersion is too old (compacted); the informer relists. */
export class KubeGoneError extends KubeApiError {}

export function isNotFound(error: unknown): error is KubeNotFoundError {
  return error instanceof KubeNotFoundError;
}

export function isConflict(error: unknown): error is KubeConflictError {
  return error instanceof KubeConflictError;
}
