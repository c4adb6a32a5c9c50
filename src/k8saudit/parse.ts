/**
 * Parses what the Kubernetes API server's webhook audit backend POSTs: an audit.k8s.io EventList,
 * a single Event, or a bare JSON array of Events. Each good item becomes a K8sAuditEvent; a bad item
 * is reported with its index and reason without dropping the others.
 */
import type { K8sAuditEvent } from '../engine/event.ts';
import { PeregrineError } from '../errors.ts';

export interface AuditParseResult {
  events: K8sAuditEvent[];
  errors: PeregrineError[];
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

function toEvent(item: unknown, index: number, num: number): K8sAuditEvent | PeregrineError {
  const where = `audit item ${index}`;
  if (!isObject(item)) return new PeregrineError('K8S_AUDIT_BAD_ITEM', `${where}: not a JSON object`);
  if (item['kind'] !== undefined && item['kind'] !== 'Event') {
    return new PeregrineError('K8S_AUDIT_BAD_ITEM', `${where}: kind is ${JSON.stringify(item['kind'])}, expected "Event"`);
  }
  const stamp = item['stageTimestamp'];
  if (typeof stamp !== 'string') return new PeregrineError('K8S_AUDIT_BAD_ITEM', `${where}: stageTimestamp is missing`);
  const ts = rfc3339ToNs(stamp);
  if (ts === undefined) return new PeregrineError('K8S_AUDIT_BAD_ITEM', `${where}: stageTimestamp ${JSON.stringify(stamp)} is not RFC 3339`);
  return { source: 'k8s_audit', num, ts, raw: item };
}

export function parseAuditBody(body: string, firstNum = 1): AuditParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return { events: [], errors: [new PeregrineError('K8S_AUDIT_BAD_JSON', `audit body is not JSON: ${(err as Error).message}`)] };
  }
  let items: unknown[];
  if (Array.isArray(doc)) items = doc;
  else if (isObject(doc) && doc['kind'] === 'EventList') items = Array.isArray(doc['items']) ? doc['items'] : [];
  else items = [doc];
  const result: AuditParseResult = { events: [], errors: [] };
  items.forEach((item, i) => {
    const out = toEvent(item, i, firstNum + result.events.length);
    if (out instanceof PeregrineError) result.errors.push(out);
    else result.events.push(out);
  });
  return result;
}
