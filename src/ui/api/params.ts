import { parsePriority, type Priority } from '../../alert/priority.ts';
import { COUNT_DIMENSIONS, type AlertQuery, type CountDimension } from '../store/contract.ts';

/** A query parameter the API cannot use; the message names the parameter and the value. */
export class ParamError extends Error {}

/**
 * The filter parameters every list/count/histogram/export/stream request takes. Lists repeat the
 * parameter (`priority=warning&priority=error`); different parameters combine with AND.
 */
export function parseQuery(params: URLSearchParams): AlertQuery {
  const q: AlertQuery = {};
  const priorities = params.getAll('priority').filter(Boolean).map((p) => {
    const parsed = parsePriority(p);
    if (!parsed) throw new ParamError(`priority: unknown priority "${p}"`);
    return parsed;
  });
  if (priorities.length) q.priorities = priorities as Priority[];
  const lists: [string, 'rules' | 'sources' | 'hostnames' | 'tags' | 'containers'][] = [
    ['rule', 'rules'], ['source', 'sources'], ['hostname', 'hostnames'], ['tag', 'tags'], ['container', 'containers'],
  ];
  for (const [param, key] of lists) {
    const values = params.getAll(param);
    if (values.length) q[key] = values;
  }
  const from = params.get('from');
  if (from) q.from = parseTime('from', from);
  const to = params.get('to');
  if (to) q.to = parseTime('to', to);
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new ParamError('from: must not be after to');
  const search = params.get('q');
  if (search?.trim()) q.search = search.slice(0, 500);
  const cursor = params.get('cursor');
  if (cursor) q.cursor = cursor;
  const limit = params.get('limit');
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ParamError(`limit: "${limit}" is not a whole number from 1 to 1000`);
    q.limit = n;
  }
  return q;
}

/** A time as milliseconds since the epoch or an RFC 3339 / ISO 8601 date. */
export function parseTime(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ParamError(`${name}: "${value}" is neither milliseconds since the epoch nor an ISO 8601 time`);
  return ms;
}

export function parseDimension(value: string | null): CountDimension {
  if (value && (COUNT_DIMENSIONS as readonly string[]).includes(value)) return value as CountDimension;
  throw new ParamError(`by: "${value ?? ''}" is not one of ${COUNT_DIMENSIONS.join(', ')}`);
}

const NICE_BUCKETS = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000];

/** The bucket for a histogram: `bucket` in ms when given, else a round size giving at most ~200 bars. */
export function bucketFor(params: URLSearchParams, from: number | undefined, to: number | undefined, now: number): number {
  const b = params.get('bucket');
  if (b) {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1000) throw new ParamError(`bucket: "${b}" is not a whole number of milliseconds, at least 1000`);
    const span = (to ?? now) - (from ?? (to ?? now) - 7 * 86_400_000);
    if (span / n > 10_000) throw new ParamError(`bucket: ${n} ms gives more than 10000 buckets over the range; use a larger bucket`);
    return n;
  }
  const span = (to ?? now) - (from ?? now - 7 * 86_400_000);
  return NICE_BUCKETS.find((x) => span / x <= 200) ?? NICE_BUCKETS.at(-1)!;
}
