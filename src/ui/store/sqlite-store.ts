import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { FalcoAlert, OutputFieldValue } from '../../alert/alert.ts';
import { PRIORITIES, priorityRank, type Priority } from '../../alert/priority.ts';
import { PeregrineError } from '../../errors.ts';
import type {
  AlertPage, AlertQuery, AlertStore, CountDimension, HistogramBucket, StoredAlert, StoreOptions,
} from './contract.ts';
import { fieldText, ftsQuery } from './fts.ts';
import { NAME_KINDS, SCHEMA_VERSION, DDL, type NameKind } from './schema.ts';
import { rangeParts, whereFor, type Where } from './where.ts';

const MINUTE = 60_000;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Retention deletes this many alerts per transaction, so a reader never waits long. */
const DELETE_CHUNK = 5000;

type Row = Record<string, SQLInputValue>;

/** Opens (creating if needed) the SQLite alert store. */
export function openSqliteStore(opts: StoreOptions): AlertStore {
  if (opts.file !== ':memory:') {
    try {
      mkdirSync(dirname(opts.file), { recursive: true });
    } catch (err) {
      throw new PeregrineError('PRG_UI_STORE', `ui.dbfile: cannot create the directory of ${opts.file}: ${(err as Error).message}`);
    }
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(opts.file);
    // auto_vacuum must be chosen before the first table exists; it lets retention give pages back to the OS.
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY');
    // The WAL counts towards maxbytes: checkpoint it (and cut it back) once it reaches 1/20 of the limit.
    const walBytes = walLimit(opts.maxBytes);
    db.exec(`PRAGMA journal_size_limit = ${walBytes}; PRAGMA wal_autocheckpoint = ${Math.min(1000, Math.ceil(walBytes / 4096))}`);
    db.exec(DDL);
    const v = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (v !== 0 && v !== SCHEMA_VERSION) throw new Error(`schema version ${v}, this Peregrine reads ${SCHEMA_VERSION}`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    throw new PeregrineError('PRG_UI_STORE', `ui.dbfile ${opts.file}: cannot open the alert store: ${(err as Error).message}`);
  }
  return new SqliteAlertStore(db, opts);
}

class SqliteAlertStore implements AlertStore {
  private readonly db: DatabaseSync;
  private readonly opts: StoreOptions;
  private readonly now: () => number;
  /** names table in memory, both ways: kind -> value -> id, and id -> value. */
  private readonly ids = new Map<number, Map<string, number>>();
  private readonly values = new Map<number, string>();
  private readonly listeners = new Set<(alerts: readonly StoredAlert[]) => void>();
  private readonly stmts: Record<string, StatementSync>;
  private readonly cache = new Map<string, StatementSync>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly walBytes: number;

  constructor(db: DatabaseSync, opts: StoreOptions) {
    this.db = db;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.walBytes = walLimit(opts.maxBytes);
    for (const kind of Object.values(NAME_KINDS)) this.ids.set(kind, new Map());
    for (const r of db.prepare('SELECT id, kind, value FROM names').all() as { id: number; kind: number; value: string }[]) {
      this.ids.get(r.kind)!.set(r.value, r.id);
      this.values.set(r.id, r.value);
    }
    this.stmts = {
      name: db.prepare('INSERT INTO names (kind, value) VALUES (?, ?)'),
      alert: db.prepare(`INSERT INTO alerts (t, p, rule, source, host, container, uuid, time, tags, output, fields)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      tag: db.prepare('INSERT OR IGNORE INTO alert_tags (alert, tag) VALUES (?, ?)'),
      fts: db.prepare('INSERT INTO alerts_fts (rowid, output, fields) VALUES (?, ?, ?)'),
      rollup: db.prepare(`INSERT INTO rollup (minute, p, rule, source, host, container, n) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET n = n + excluded.n`),
      rollupTag: db.prepare(`INSERT INTO rollup_tags (minute, tag, p, rule, source, host, container, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET n = n + excluded.n`),
      get: db.prepare('SELECT * FROM alerts WHERE id = ?'),
    };
    // Age retention also has to run when no alert arrives.
    this.timer = setInterval(() => { this.enforceRetention(); }, 60_000);
    this.timer.unref();
    this.enforceRetention();
  }

  insert(alerts: readonly FalcoAlert[]): void {
    if (alerts.length === 0) return;
    if (this.opts.maxBytes > 0) this.makeRoom(alerts.length);
    const stored: StoredAlert[] = [];
    const rollup = new Map<string, number>();
    const rollupTags = new Map<string, number>();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const a of alerts) {
        const t = alertTimeMs(a.time);
        const p = priorityRank(a.priority);
        const rule = this.nameId('rule', a.rule);
        const source = this.nameId('source', a.source);
        const host = this.nameId('hostname', a.hostname);
        const containerValue = containerOf(a.output_fields);
        const container = containerValue === undefined ? 0 : this.nameId('container', containerValue);
        const fields = JSON.stringify(a.output_fields);
        const r = this.stmts.alert!.run(t, p, rule, source, host, container, a.uuid, a.time, JSON.stringify(a.tags), a.output, fields);
        const id = Number(r.lastInsertRowid);
        this.stmts.fts!.run(id, a.output, fieldText(a.output_fields));
        const dims = `${p},${rule},${source},${host},${container}`;
        const minute = Math.floor(t / MINUTE);
        const key = `${minute},${dims}`;
        rollup.set(key, (rollup.get(key) ?? 0) + 1);
        for (const tag of new Set(a.tags)) {
          const tagId = this.nameId('tag', tag);
          this.stmts.tag!.run(id, tagId);
          const tk = `${minute},${tagId},${dims}`;
          rollupTags.set(tk, (rollupTags.get(tk) ?? 0) + 1);
        }
        stored.push({ ...a, id, timeMs: t });
      }
      for (const [k, n] of rollup) this.stmts.rollup!.run(...k.split(',').map(Number), n);
      for (const [k, n] of rollupTags) this.stmts.rollupTag!.run(...k.split(',').map(Number), n);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.forgetUncommittedNames();
      throw err;
    }
    // Near the size limit the WAL must not keep a copy of the last transaction's pages on disk.
    if (this.opts.maxBytes > 0 && fileSize(`${this.opts.file}-wal`) > this.walBytes) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    for (const l of this.listeners) l(stored);
  }

  list(q: AlertQuery): AlertPage {
    const limit = clampLimit(q.limit);
    const w = this.where(q);
    if (!w) return { alerts: [] };
    const params = [...w.params];
    let cond = w.sql;
    const c = decodeCursor(q.cursor);
    if (c) {
      cond = `${cond ? `${cond} AND ` : ''}(t, id) < (?, ?)`;
      params.push(c.t, c.id);
    }
    const rows = this.prepare(`SELECT * FROM alerts ${cond ? `WHERE ${cond}` : ''} ORDER BY t DESC, id DESC LIMIT ?`)
      .all(...params, limit + 1) as Row[];
    const more = rows.length > limit;
    const alerts = rows.slice(0, limit).map((r) => this.decode(r));
    const last = alerts.at(-1);
    return more && last ? { alerts, next: encodeCursor(last.timeMs, last.id) } : { alerts };
  }

  *iterate(q: AlertQuery, chunk = 1000): Iterable<StoredAlert[]> {
    let cursor = q.cursor;
    for (;;) {
      const page = this.list({ ...q, cursor, limit: chunk });
      if (page.alerts.length > 0) yield page.alerts;
      if (!page.next) return;
      cursor = page.next;
    }
  }

  get(id: number): StoredAlert | undefined {
    const r = this.stmts.get!.get(id) as Row | undefined;
    return r ? this.decode(r) : undefined;
  }

  total(q: AlertQuery): number {
    return this.counts(q, 'priority').reduce((s, c) => s + c.count, 0);
  }

  counts(q: AlertQuery, by: CountDimension, limit = 1000): { value: string; count: number }[] {
    const w = this.where(q);
    if (!w) return [];
    const sums = new Map<number, number>();
    for (const part of this.countParts(q, w, by)) {
      for (const r of this.prepare(part.sql).all(...part.params) as { k: number; n: number }[]) {
        sums.set(r.k, (sums.get(r.k) ?? 0) + r.n);
      }
    }
    const out: { value: string; count: number }[] = [];
    for (const [k, n] of sums) {
      if (n <= 0) continue;
      const value = by === 'priority' ? PRIORITIES[k - 1]! : by === 'container' && k === 0 ? '' : this.values.get(k) ?? '';
      out.push({ value, count: n });
    }
    out.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    return out.slice(0, limit);
  }

  histogram(q: AlertQuery, bucketMs: number): HistogramBucket[] {
    const w = this.where(q);
    if (!w) return [];
    const buckets = new Map<number, HistogramBucket>();
    for (const part of this.histogramParts(q, w, bucketMs)) {
      for (const r of this.prepare(part.sql).all(...part.params) as { b: number; p: number; n: number }[]) {
        const t = r.b * bucketMs;
        let bucket = buckets.get(t);
        if (!bucket) buckets.set(t, bucket = { t, total: 0, byPriority: {} });
        const name = PRIORITIES[r.p - 1]!;
        bucket.total += r.n;
        bucket.byPriority[name] = (bucket.byPriority[name] ?? 0) + r.n;
      }
    }
    return [...buckets.values()].filter((b) => b.total > 0).sort((a, b) => a.t - b.t);
  }

  /** Deletes the oldest alerts first if `incoming` more could push the file over maxbytes. */
  private makeRoom(incoming: number): void {
    // An alert costs about its share of the used pages, and is written to the WAL before the main file.
    const count = this.alertCount();
    const perAlert = count > 0 ? this.usedBytes() / count : 2048;
    const need = 3 * incoming * perAlert;
    if (this.sizeBytes() + need > this.opts.maxBytes * 0.95) this.enforceRetention(need);
  }

  private alertCount(): number {
    return (this.prepare('SELECT max(id) - min(id) + 1 AS n FROM alerts').get() as { n: number | null }).n ?? 0;
  }

  enforceRetention(room = 0): number {
    if (this.closed) return 0;
    let removed = 0;
    if (this.opts.retentionMs > 0) {
      const cutoff = this.now() - this.opts.retentionMs;
      for (;;) {
        const ids = this.db.prepare('SELECT id FROM alerts WHERE t < ? ORDER BY t LIMIT ?').all(cutoff, DELETE_CHUNK) as { id: number }[];
        if (ids.length === 0) break;
        removed += this.deleteIds(ids.map((r) => r.id));
      }
    }
    if (this.opts.maxBytes > 0) {
      // Aim below the limit so the next batches fit before retention runs again.
      const target = Math.min(this.opts.maxBytes * 0.8, this.opts.maxBytes - room);
      for (let round = 0; round < 1000 && this.usedBytes() > target; round++) {
        const count = this.alertCount();
        if (count === 0) break;
        const perAlert = this.usedBytes() / count;
        const n = Math.min(DELETE_CHUNK, count, Math.max(100, Math.ceil((this.usedBytes() - target) / perAlert)));
        const ids = this.db.prepare('SELECT id FROM alerts ORDER BY id LIMIT ?').all(n) as { id: number }[];
        removed += this.deleteIds(ids.map((r) => r.id));
      }
    }
    if (removed > 0) {
      this.db.exec('PRAGMA incremental_vacuum');
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    }
    return removed;
  }

  sizeBytes(): number {
    if (this.opts.file === ':memory:') return this.usedBytes();
    return fileSize(this.opts.file) + fileSize(`${this.opts.file}-wal`);
  }

  onInsert(listener: (alerts: readonly StoredAlert[]) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.listeners.clear();
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  private usedBytes(): number {
    const pages = (this.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    const free = (this.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    const size = (this.db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    return (pages - free) * size;
  }

  /** Removes alerts and everything derived from them (tags, search index, rollups) in one transaction. */
  private deleteIds(ids: number[]): number {
    if (ids.length === 0) return 0;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.db.exec('CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY)');
      this.db.exec('DELETE FROM temp.doomed');
      const add = this.prepare('INSERT INTO temp.doomed (id) VALUES (?)');
      for (const id of ids) add.run(id);
      const dims = 'p, rule, source, host, container';
      const sub = this.prepare(`UPDATE rollup SET n = n - ? WHERE minute = ? AND p = ? AND rule = ? AND source = ? AND host = ? AND container = ?`);
      for (const r of this.prepare(`SELECT t / ${MINUTE} AS m, ${dims}, count(*) AS n FROM alerts WHERE id IN temp.doomed GROUP BY m, ${dims}`).all() as Row[]) {
        sub.run(r.n!, r.m!, r.p!, r.rule!, r.source!, r.host!, r.container!);
      }
      const subTag = this.prepare(`UPDATE rollup_tags SET n = n - ? WHERE minute = ? AND tag = ? AND p = ? AND rule = ? AND source = ? AND host = ? AND container = ?`);
      for (const r of this.prepare(`SELECT a.t / ${MINUTE} AS m, g.tag AS tag, a.p AS p, a.rule AS rule, a.source AS source, a.host AS host,
          a.container AS container, count(*) AS n FROM alerts a JOIN alert_tags g ON g.alert = a.id
          WHERE a.id IN temp.doomed GROUP BY m, tag, a.p, a.rule, a.source, a.host, a.container`).all() as Row[]) {
        subTag.run(r.n!, r.m!, r.tag!, r.p!, r.rule!, r.source!, r.host!, r.container!);
      }
      this.db.exec('DELETE FROM rollup WHERE n <= 0; DELETE FROM rollup_tags WHERE n <= 0');
      const delFts = this.prepare('DELETE FROM alerts_fts WHERE rowid = ?');
      for (const id of ids) delFts.run(id);
      this.db.exec('DELETE FROM alert_tags WHERE alert IN temp.doomed; DELETE FROM alerts WHERE id IN temp.doomed');
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    return ids.length;
  }

  private nameId(kind: NameKind, value: string): number {
    const k = NAME_KINDS[kind];
    const known = this.ids.get(k)!.get(value);
    if (known !== undefined) return known;
    const id = Number(this.stmts.name!.run(k, value).lastInsertRowid);
    this.ids.get(k)!.set(value, id);
    this.values.set(id, value);
    this.pending.push([k, value, id]);
    return id;
  }

  /** Names added in a transaction that rolled back must not stay in the in-memory maps. */
  private pending: [number, string, number][] = [];
  private forgetUncommittedNames(): void {
    for (const [k, value, id] of this.pending) {
      this.ids.get(k)!.delete(value);
      this.values.delete(id);
    }
    this.pending = [];
  }

  /** The filter as SQL over `alerts`; undefined when it cannot match (a name never seen). */
  private where(q: AlertQuery): Where | undefined {
    return whereFor(q, (kind, value) => this.ids.get(NAME_KINDS[kind])!.get(value), ftsQuery(q.search ?? ''));
  }

  private countParts(q: AlertQuery, w: Where, by: CountDimension): { sql: string; params: SQLInputValue[] }[] {
    if (by === 'tag') {
      // An alert counts once per tag it carries. Column names of alerts and alert_tags do not overlap.
      const raw = (cond: string) => `SELECT g.tag AS k, count(*) AS n FROM alerts JOIN alert_tags g ON g.alert = alerts.id ${cond ? `WHERE ${cond}` : ''} GROUP BY g.tag`;
      // rollup_tags holds one tag per row, so it cannot say which other tags an alert of a filtered tag has.
      return w.rollupTable === 'rollup' ? this.rollupParts(q, w, 'rollup_tags', 'tag', raw) : [{ sql: raw(w.sql), params: w.params }];
    }
    const col = by === 'priority' ? 'p' : by === 'hostname' ? 'host' : by;
    const raw = (cond: string) => `SELECT ${col} AS k, count(*) AS n FROM alerts ${cond ? `WHERE ${cond}` : ''} GROUP BY ${col}`;
    return w.rollupTable ? this.rollupParts(q, w, w.rollupTable, col, raw) : [{ sql: raw(w.sql), params: w.params }];
  }

  private histogramParts(q: AlertQuery, w: Where, bucketMs: number): { sql: string; params: SQLInputValue[] }[] {
    const raw = (cond: string) => `SELECT t / ${bucketMs} AS b, p, count(*) AS n FROM alerts ${cond ? `WHERE ${cond}` : ''} GROUP BY b, p`;
    if (!w.rollupTable || bucketMs % MINUTE !== 0) return [{ sql: raw(w.sql), params: w.params }];
    const perBucket = bucketMs / MINUTE;
    const parts: { sql: string; params: SQLInputValue[] }[] = [];
    const { edges, minuteFrom, minuteTo } = rangeParts(q.from, q.to);
    for (const e of edges) {
      const c = [w.sqlNoTime, 't >= ? AND t < ?'].filter(Boolean).join(' AND ');
      parts.push({ sql: raw(c), params: [...w.paramsNoTime, e.from, e.to] });
    }
    const rc = [w.rollupSql, minuteFrom !== undefined ? 'minute >= ?' : '', minuteTo !== undefined ? 'minute < ?' : ''].filter(Boolean).join(' AND ');
    const rp = [...w.rollupParams, ...(minuteFrom !== undefined ? [minuteFrom] : []), ...(minuteTo !== undefined ? [minuteTo] : [])];
    parts.push({ sql: `SELECT minute / ${perBucket} AS b, p, sum(n) AS n FROM ${w.rollupTable} ${rc ? `WHERE ${rc}` : ''} GROUP BY b, p`, params: rp });
    return parts;
  }

  /** Whole minutes from the rollup table, the partial minutes at the range's ends from the alerts. */
  private rollupParts(q: AlertQuery, w: Where, table: string, col: string, raw: (cond: string) => string):
    { sql: string; params: SQLInputValue[] }[] {
    const parts: { sql: string; params: SQLInputValue[] }[] = [];
    const { edges, minuteFrom, minuteTo } = rangeParts(q.from, q.to);
    for (const e of edges) {
      const c = [w.sqlNoTime, 't >= ? AND t < ?'].filter(Boolean).join(' AND ');
      parts.push({ sql: raw(c), params: [...w.paramsNoTime, e.from, e.to] });
    }
    const rc = [w.rollupSql, minuteFrom !== undefined ? 'minute >= ?' : '', minuteTo !== undefined ? 'minute < ?' : ''].filter(Boolean).join(' AND ');
    const rp = [...w.rollupParams, ...(minuteFrom !== undefined ? [minuteFrom] : []), ...(minuteTo !== undefined ? [minuteTo] : [])];
    parts.push({ sql: `SELECT ${col} AS k, sum(n) AS n FROM ${table} ${rc ? `WHERE ${rc}` : ''} GROUP BY ${col}`, params: rp });
    return parts;
  }

  private prepare(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) {
      if (this.cache.size > 500) this.cache.clear();
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  private decode(r: Row): StoredAlert {
    return {
      id: r.id as number,
      timeMs: r.t as number,
      uuid: r.uuid as string,
      time: r.time as string,
      priority: PRIORITIES[(r.p as number) - 1] as Priority,
      rule: this.values.get(r.rule as number) ?? '',
      source: this.values.get(r.source as number) ?? '',
      hostname: this.values.get(r.host as number) ?? '',
      tags: JSON.parse(r.tags as string) as string[],
      output: r.output as string,
      output_fields: JSON.parse(r.fields as string) as Record<string, OutputFieldValue>,
    };
  }
}

/** Falco's alert time to ms; an unparsable time (the router validates, so rare) is stored as now. */
function alertTimeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** The container an alert is about: container.id, or container.name; undefined for host events. */
function containerOf(fields: Record<string, OutputFieldValue>): string | undefined {
  const id = fields['container.id'];
  if (typeof id === 'string' && id !== '' && id !== 'host' && id !== '<NA>') return id;
  return undefined;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit) || limit < 1) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.floor(limit));
}

function encodeCursor(t: number, id: number): string {
  return Buffer.from(`${t}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { t: number; id: number } | undefined {
  if (!cursor) return undefined;
  const m = /^(-?\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new PeregrineError('PRG_UI_CURSOR', `cursor "${cursor}" is not one this server gave out`);
  return { t: Number(m[1]), id: Number(m[2]) };
}

function walLimit(maxBytes: number): number {
  return maxBytes > 0 ? Math.max(256 << 10, Math.floor(maxBytes / 20)) : 64 << 20;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
