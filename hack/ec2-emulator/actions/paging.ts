import { Ec2Fault, invalidCombination } from '../protocol/errors.ts';
import type { QueryParams } from '../protocol/query.ts';

/**
 * Pagination (docs/ec2-semantics.md#describes): MaxResults within the action's bounds, never together with explicit ids; NextToken is
 * an opaque cursor (the last returned record's creation seq), so pages stay stable while records come and go.
 */
export interface Paging {
  maxResults: number | undefined;
  afterSeq: number;
}

export function readPaging(
  params: QueryParams,
  action: string,
  bounds: { min: number; max: number },
  hasExplicitIds: boolean,
): Paging {
  const maxResults = params.int('MaxResults', bounds);
  if (maxResults !== undefined && hasExplicitIds) {
    throw invalidCombination('The parameter MaxResults cannot be used with the parameter ids');
  }
  const token = params.string('NextToken');
  if (token === undefined || token === '') return { maxResults, afterSeq: 0 };
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^([A-Za-z]+):(\d+)$/.exec(decoded);
  if (!match || match[1] !== action) throw new Ec2Fault('InvalidNextToken', `The token '${token}' is invalid.`);
  return { maxResults, afterSeq: Number(match[2]) };
}

/** One page of seq-ordered items; `nextToken` only when more remain. */
export function takePage<T extends { seq: number }>(
  items: Iterable<T>,
  paging: Paging,
  action: string,
  accept: (item: T) => boolean,
): { page: T[]; nextToken: string | undefined } {
  const page: T[] = [];
  const limit = paging.maxResults ?? Number.POSITIVE_INFINITY;
  for (const item of items) {
    if (item.seq <= paging.afterSeq || !accept(item)) continue;
    if (page.length === limit) {
      const last = page[page.length - 1];
      return { page, nextToken: last ? Buffer.from(`${action}:${last.seq}`).toString('base64url') : undefined };
    }
    page.push(item);
  }
  return { page, nextToken: undefined };
}

/** Records of an id set in creation order (index lookups return insertion order of the index, not seq). */
export function inSeqOrder<T extends { seq: number }>(ids: Iterable<string>, lookup: Map<string, T>): T[] {
  const out: T[] = [];
  for (const id of ids) {
    const record = lookup.get(id);
    if (record) out.push(record);
  }
  return out.sort((a, b) => a.seq - b.seq);
}
