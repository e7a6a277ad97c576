/**
 * Per-HTTP-request observation for the SDK adapter: a middleware inside the SDK's retry loop that counts
 * every request EC2 receives (pages and retry attempts included) and every throttled answer, and tells the
 * rate limiter which EC2 bucket the request drew from.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { isThrottlingCode } from './ec2-errors.ts';
import type { RequestObserver } from './rate-limiter.ts';
import { ec2RequestsTotal, ec2ThrottledResponsesTotal } from '../observability/metrics.ts';

/** Describes that draw from EC2's smaller bucket when sent with neither filters nor pagination (docs/ec2-semantics.md#throttling). */
const UNFILTERED_BUCKET_ACTIONS = new Set(['DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups']);

/**
 * Adds a per-attempt middleware (deserialize step, inside the SDK's retry loop) that counts every HTTP
 * request and every throttled response, and tells the observer which bucket the request drew from.
 */
export function observeRequests(client: EC2Client, observer: RequestObserver | undefined): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const bucket = isUnfilteredDescribe(action, args.request) ? 'UnfilteredDescribe' : action;
      ec2RequestsTotal.inc({ action });
      try {
        const out = await next(args);
        observer?.onRequest(bucket, { isThrottled: false });
        return out;
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        const isThrottled = isThrottlingCode(name);
        if (isThrottled) ec2ThrottledResponsesTotal.inc({ action });
        observer?.onRequest(bucket, { isThrottled });
        throw err;
      }
    },
    // Highest priority in the deserialize step: outside the deserializer (sees parsed EC2 errors), inside retries.
    { step: 'deserialize', priority: 'high', name: 'sgpRequestObserver', override: true },
  );
}

function isUnfilteredDescribe(action: string, request: unknown): boolean {
  if (!UNFILTERED_BUCKET_ACTIONS.has(action)) return false;
  const body = (request as { body?: unknown } | undefined)?.body;
  return typeof body === 'string' && !/(^|&)(Filter\.|MaxResults=|NextToken=)/.test(body);
}
