import type { SQLInputValue } from 'node:sqlite';
import { priorityRank } from '../../alert/priority.ts';
import type { AlertFilter } from './contract.ts';
import type { Dim } from './rollups.ts';
import type { NameKind } from './schema.ts';

/** A filter as SQL over `alerts`, plus what a rollup needs to answer it. */
export interface Where {
  sql: string;
  params: SQLInputValue[];
  /** The same without the time range (for the partial buckets at the range's ends). */
  sqlNoTime: string;
  paramsNoTime: SQLInputValue[];
  /** Conditions per dimension (column = value or IN list), for rollup tables. */
  dims: { dim: Dim; ids: number[] }[];
  /** Only the alerts can answer: a search, or several tags (an alert with two of them counts once). */
  rawOnly: boolean;
  /** With a search: the FTS5 query, and the conditions other than the search (to drive a query from the index). */
  fts?: { query: string; sql: string; params: SQLInputValue[] };
}

/**
 * Builds the WHERE clause of a filter. Names are looked up to ids; a name the store has never seen
 * cannot match, and when a whole key is left without a known value the result is undefined (no rows).
 */
export function whereFor(f: AlertFilter, idOf: (kind: NameKind, value: string) => number | undefined,
  fts: string | undefined): Where | undefined {
  const conds: string[] = [];
  const params: SQLInputValue[] = [];
  const dims: Where['dims'] = [];
  let rawOnly = false;
  const inList = (col: Dim, values: number[]) => {
    conds.push(values.length === 1 ? `${col} = ?` : `${col} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
    dims.push({ dim: col, ids: values });
  };
  if (f.priorities?.length) inList('p', [...new Set(f.priorities.map(priorityRank))]);
  const named: [NameKind, Dim, string[] | undefined][] = [
    ['rule', 'rule', f.rules], ['source', 'source', f.sources], ['hostname', 'host', f.hostnames], ['container', 'container', f.containers],
  ];
  for (const [kind, col, values] of named) {
    if (!values?.length) continue;
    const ids = values.map((v) => (kind === 'container' && v === '' ? 0 : idOf(kind, v))).filter((x): x is number => x !== undefined);
    if (ids.length === 0) return undefined;
    inList(col, [...new Set(ids)]);
  }
  if (f.tags?.length) {
    const ids = [...new Set(f.tags.map((v) => idOf('tag', v)).filter((x): x is number => x !== undefined))];
    if (ids.length === 0) return undefined;
    conds.push(`id IN (SELECT alert FROM alert_tags WHERE tag IN (${ids.map(() => '?').join(', ')}))`);
    params.push(...ids);
    if (ids.length === 1) dims.push({ dim: 'tag', ids });
    else rawOnly = true;
  }
  const others = { conds: [...conds], params: [...params] };
  if (fts) {
    conds.push('id IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?)');
    params.push(fts);
    rawOnly = true;
  } else if (f.search?.trim()) {
    // Only punctuation was typed: nothing can match a word.
    return undefined;
  }
  const sqlNoTime = conds.join(' AND ');
  const paramsNoTime = [...params];
  for (const c of [conds, others.conds]) {
    if (f.from !== undefined) c.push('t >= ?');
    if (f.to !== undefined) c.push('t < ?');
  }
  for (const p of [params, others.params]) {
    if (f.from !== undefined) p.push(f.from);
    if (f.to !== undefined) p.push(f.to);
  }
  return {
    sql: conds.join(' AND '), params, sqlNoTime, paramsNoTime, dims, rawOnly,
    ...(fts ? { fts: { query: fts, sql: others.conds.join(' AND '), params: others.params } } : {}),
  };
}
