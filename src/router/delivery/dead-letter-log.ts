import { join } from 'node:path';
import type { Spool, SpoolEntry, SpoolOptions } from '../../spool/contract.ts';
import { openSpool } from '../../spool/registry.ts';
import type { DeadLetter } from './output-queue.ts';
import { parseJson, stringifyJson } from '../../alert/json.ts';

/** The consumer that `peregrine deadletter replay` moves forward. */
export const REPLAY_CONSUMER = 'replay';

export function deadLetterDir(spoolDir: string): string {
  return join(spoolDir, 'deadletter');
}

export interface StoredDeadLetter extends DeadLetter {
  seq: number;
  /** When it was given up, ISO 8601. */
  at: string;
}

/**
 * Alerts given up on, kept in a spool of their own (same backend, same checksums) beside the main one.
 * It is bounded like the main spool but drops its oldest entries when full: refusing would lose the newest.
 */
export async function openDeadLetterLog(type: string, base: Pick<SpoolOptions, 'dir' | 'fsync' | 'fsyncMs' | 'maxBytes' | 'log'>): Promise<Spool> {
  return openSpool(type, { ...base, dir: deadLetterDir(base.dir), whenFull: 'drop_oldest', consumers: [REPLAY_CONSUMER] });
}

export function encodeDeadLetter(d: DeadLetter): Buffer {
  return Buffer.from(stringifyJson({ ...d, at: new Date().toISOString() }));
}

export function decodeDeadLetter(e: SpoolEntry): StoredDeadLetter {
  return { ...(parseJson(e.payload.toString('utf8')) as Omit<StoredDeadLetter, 'seq'>), seq: e.seq };
}

/** Every dead letter not replayed yet, oldest first. */
export async function pendingDeadLetters(log: Spool): Promise<StoredDeadLetter[]> {
  const reader = log.reader(REPLAY_CONSUMER);
  const out: StoredDeadLetter[] = [];
  let left = log.stats().consumers[REPLAY_CONSUMER]!.pending;
  while (left > 0) {
    const got = await reader.next(Math.min(left, 1000), AbortSignal.timeout(5000));
    if (got.length === 0) break;
    for (const e of got) out.push(decodeDeadLetter(e));
    left -= got.length;
  }
  return out;
}
