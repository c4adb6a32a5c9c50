import type { FalcoAlert } from '../../alert/alert.ts';
import { parseJson, stringifyJson } from '../../alert/json.ts';

/** What the router writes to the spool for one accepted alert. */
export interface SpooledAlert {
  alert: FalcoAlert;
  /** Wall-clock ms of acceptance (delivery latency is measured from here). */
  acceptedAt: number;
  /** Only this output instance (a dead letter replayed); absent = every output whose filter matches. */
  to?: string;
}

export function encodeSpooled(s: SpooledAlert): Buffer {
  return Buffer.from(stringifyJson(s.to === undefined ? { a: s.alert, t: s.acceptedAt } : { a: s.alert, t: s.acceptedAt, to: s.to }));
}

/** Decodes a spool payload; throws naming what is wrong (the record is then dead-lettered as it is). */
export function decodeSpooled(payload: Buffer): SpooledAlert {
  // Exact 64-bit integers (evt.time in ns) survive the spool as they came in.
  const o = parseJson(payload.toString('utf8')) as { a?: FalcoAlert; t?: number; to?: string };
  if (!o || typeof o !== 'object' || !o.a || typeof o.a !== 'object' || typeof o.t !== 'number') throw new Error('spool record is not an alert');
  return o.to === undefined ? { alert: o.a, acceptedAt: o.t } : { alert: o.a, acceptedAt: o.t, to: o.to };
}
