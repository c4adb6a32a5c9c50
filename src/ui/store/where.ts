import type { SQLInputValue } from 'node:sqlite';
import { priorityRank } from '../../alert/priority.ts';
import type { AlertFilter } from './contract.ts';
import type { NameKind } from './schema.ts';

const MINUTE = 60_000;

/** A filter as SQL: over `alerts`, and (when the filter allows it) over a rollup table. */
export interface Where {
  sql: string;
  params: SQLInputValue[];
  /** The same without the time range (for the partial minutes at the range's ends). */
  sqlNoTime: string;
  paramsNoTime: SQLInputValue[];
  /** The rollup table that answers this filter exactly, if any: no search, at most one tag. */
  rollupTable?: 'rollup' | 'rollup_tags';
  /** Conditions over that rollup table, without the time range. */
  rollupSql: string;
  rollupParams: SQLInputValue[];
}

/**
 * Builds the WHERE clause of a filter. Names are looked up to ids; a name the store has never seen
 * cannot match, and when a whole key is left without a known value the result is undefined (no rows).
 */
export function whereFor(f: AlertFilter, idOf: (kind: NameKind, value: string) => number | undefined,
  fts: string | undefined): Where | undefined {
  const conds: string[] = [];
  const params: SQLInputValue[] = [];
  const rollupConds: string[] = [];
  const rollupParams: SQLInputValue[] = [];
  const inList = (col: string, values: number[]) => {
    const c = values.length === 1 ? `${col} = ?` : `${col} IN (${values.map(() => '?').join(', ')})`;
    conds.push(c); params.push(...values);
    rollupConds.push(c); rollupParams.push(...values);
  };
  if (f.priorities?.length) inList('p', [...new Set(f.priorities.map(priorityRank))]);
  const named: [NameKind, string, string[] | undefined][] = [
    ['rule', 'rule', f.rules], ['source', 'source', f.sources], ['hostname', 'host', f.hostnames], ['container', 'container', f.containers],
  ];
  for (const [kind, col, values] of named) {
    if (!values?.length) continue;
    const ids = values.map((v) => (kind === 'container' && v === '' ? 0 : idOf(kind, v))).filter((x): x is number => x !== undefined);
    if (ids.length === 0) return undefined;
    inList(col, ids);
  }
  let rollupTable: Where['rollupTable'] = 'rollup';
  if (f.tags?.length) {
    const ids = f.tags.map((v) => idOf('tag', v)).filter((x): x is number => x !== undefined);
    if (ids.length === 0) return undefined;
    conds.push(`id IN (SELECT alert FROM alert_tags WHERE tag IN (${ids.map(() => '?').join(', ')}))`);
    params.push(...ids);
    if (ids.length === 1) {
      rollupTable = 'rollup_tags';
      rollupConds.push('tag = ?'); rollupParams.push(ids[0]!);
    } else rollupTable = undefined;
  }
  if (fts) {
    conds.push('id IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?)');
    params.push(fts);
    rollupTable = undefined;
  } else if (f.search?.trim() && !fts) {
    // Only punctuation was typed: nothing can match a word.
    return undefined;
  }
  const sqlNoTime = conds.join(' AND ');
  const paramsNoTime = [...params];
  if (f.from !== undefined) { conds.push('t >= ?'); params.push(f.from); }
  if (f.to !== undefined) { conds.push('t < ?'); params.push(f.to); }
  return { sql: conds.join(' AND '), params, sqlNoTime, paramsNoTime, rollupTable, rollupSql: rollupConds.join(' AND '), rollupParams };
}

/**
 * Splits a time range into whole minutes (answered by a rollup table) and the partial minutes at its ends
 * (answered from the alerts themselves).
 */
export function rangeParts(from: number | undefined, to: number | undefined):
  { edges: { from: number; to: number }[]; minuteFrom?: number; minuteTo?: number } {
  const edges: { from: number; to: number }[] = [];
  let minuteFrom: number | undefined;
  let minuteTo: number | undefined;
  if (from !== undefined) {
    minuteFrom = Math.ceil(from / MINUTE);
    const end = Math.min(minuteFrom * MINUTE, to ?? Infinity);
    if (end > from) edges.push({ from, to: end });
  }
  if (to !== undefined) {
    minuteTo = Math.floor(to / MINUTE);
    if (minuteFrom !== undefined && minuteTo < minuteFrom) {
      // The whole range lies inside one minute: the first edge already covers it.
      return { edges, minuteFrom, minuteTo: minuteFrom };
    }
    const start = minuteTo * MINUTE;
    if (to > start) edges.push({ from: start, to });
  }
  return { edges, minuteFrom, minuteTo };
}
