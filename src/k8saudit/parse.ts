/**
 * Parses what the Kubernetes API server's webhook audit backend POSTs: an audit.k8s.io EventList,
 * a single Event, or a bare JSON array of Events. Each good item becomes a K8sAuditEvent; a bad item
 * is reported with its index and reason without dropping the others.
 */
import type { K8sAuditEvent } from '../engine/event.ts';

/** A bad item: a plain record, not an Error, so a body of 300k bad items costs no stack traces. */
export interface AuditItemError {
  code: string;
  message: string;
}

/** Bad items reported one by one; the rest are only counted, so replies and logs stay small whatever the body. */
export const MAX_REPORTED_ERRORS = 10;

export interface AuditParseResult {
  events: K8sAuditEvent[];
  /** The first MAX_REPORTED_ERRORS bad items. */
  errors: AuditItemError[];
  /** How many items were bad in all (errors.length is at most MAX_REPORTED_ERRORS). */
  badItems: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 3339 with optional fractional seconds → ns since epoch; Date alone would cut to ms. */
export function rfc3339ToNs(text: string): bigint | undefined {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

function toEvent(item: unknown, index: number, num: number): K8sAuditEvent | AuditItemError {
  const where = `audit item ${index}`;
  if (!isObject(item)) return bad(`${where}: not a JSON object`);
  if (item['kind'] !== undefined && item['kind'] !== 'Event') {
    return bad(`${where}: kind is ${JSON.stringify(item['kind'])}, expected "Event"`);
  }
  const stamp = item['stageTimestamp'];
  if (typeof stamp !== 'string') return bad(`${where}: stageTimestamp is missing`);
  const ts = rfc3339ToNs(stamp);
  if (ts === undefined) return bad(`${where}: stageTimestamp ${JSON.stringify(stamp)} is not RFC 3339`);
  return { source: 'k8s_audit', num, ts, raw: item };
}

function bad(message: string): AuditItemError {
  return { code: 'K8S_AUDIT_BAD_ITEM', message };
}

export function parseAuditBody(body: string, firstNum = 1): AuditParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return { events: [], errors: [{ code: 'K8S_AUDIT_BAD_JSON', message: `audit body is not JSON: ${(err as Error).message}` }], badItems: 1 };
  }
  let items: unknown[];
  if (Array.isArray(doc)) items = doc;
  else if (isObject(doc) && doc['kind'] === 'EventList') items = Array.isArray(doc['items']) ? doc['items'] : [];
  else items = [doc];
  const result: AuditParseResult = { events: [], errors: [], badItems: 0 };
  items.forEach((item, i) => {
    const out = toEvent(item, i, firstNum + result.events.length);
    if ('source' in out) result.events.push(out);
    else if (result.badItems++ < MAX_REPORTED_ERRORS) result.errors.push(out);
  });
  return result;
}
