import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { FalcoAlert, OutputFieldValue } from '../../alert/alert.ts';
import { PRIORITIES, priorityRank, type Priority } from '../../alert/priority.ts';
import { PeregrineError } from '../../errors.ts';
import type {
  AlertPage, AlertQuery, AlertStore, CountDimension, HistogramBucket, StoredAlert, StoreOptions,
} from './contract.ts';
import { ftsQuery, unwrittenFieldText } from './fts.ts';
import { NAME_KINDS, SCHEMA_VERSION, DDL, MIGRATIONS, type NameKind } from './schema.ts';
import { chooseRollup, rangeParts, ROLLUPS, type Dim, type Rollup } from './rollups.ts';
import { whereFor, type Where } from './where.ts';
import { parseJson, stringifyJson } from '../../alert/json.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Retention deletes this many alerts per transaction, so a reader never waits long. */
const DELETE_CHUNK = 5000;
/** A level of the search index is merged (dropping deleted entries) once this share of its entries is deleted. */
const FTS_DELETE_MERGE_PERCENT = 50;
/** Up to this many search matches, a page is built from the matches rather than from the time index. */
const FTS_DRIVEN_MAX = 20_000;
/** The alerts a search matches, driven from the search index (its parameter comes first). */
const SEARCH_JOIN = '(SELECT rowid AS rid FROM alerts_fts WHERE alerts_fts MATCH ?) f CROSS JOIN alerts ON alerts.id = f.rid';

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
    // The WAL counts towards maxbytes: cut it back once it reaches 1/20 of the limit.
    const walBytes = walLimit(opts.maxBytes);
    db.exec(`PRAGMA journal_size_limit = ${walBytes}; PRAGMA wal_autocheckpoint = ${checkpointPages(walBytes)}`);
    const v = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (v !== 0 && v !== SCHEMA_VERSION && MIGRATIONS[v] === undefined) {
      throw new Error(`schema version ${v}, this Peregrine reads ${SCHEMA_VERSION} and ${Object.keys(MIGRATIONS).join(', ')}`);
    }
    db.exec('BEGIN IMMEDIATE');
    if (v !== 0 && v !== SCHEMA_VERSION) db.exec(MIGRATIONS[v]!);
    db.exec(DDL);
    // Retention deletes the oldest alerts a few thousand at a time. By default the search index rewrites a
    // whole level of its segments each time a tenth of its entries are deleted, which made a deleted alert
    // cost ~33 µs there; at half, dead entries stay bounded to about half of a level and it costs ~12 µs.
    db.exec(`INSERT INTO alerts_fts (alerts_fts, rank) VALUES ('deletemerge', ${FTS_DELETE_MERGE_PERCENT})`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
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
  private readonly rollupAdd: StatementSync[];

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
      alert: db.prepare(`INSERT OR IGNORE INTO alerts (t, p, rule, source, host, container, uuid, time, tags, output, fields)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      tag: db.prepare('INSERT OR IGNORE INTO alert_tags (alert, tag) VALUES (?, ?)'),
      fts: db.prepare('INSERT INTO alerts_fts (rowid, output, fields) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT * FROM alerts WHERE id = ?'),
    };
    // Age retention also has to run when no alert arrives.
    this.rollupAdd = ROLLUPS.map((r) => db.prepare(`INSERT INTO ${r.table} (b, ${r.dims.join(', ')}, n)
      VALUES (?, ${r.dims.map(() => '?').join(', ')}, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`));
    this.timer = setInterval(() => { this.enforceRetention(); }, 60_000);
    this.timer.unref();
    this.enforceRetention();
  }

  insert(alerts: readonly FalcoAlert[]): void {
    if (alerts.length === 0) return;
    if (this.opts.maxBytes > 0) this.makeRoom(alerts.length);
    // Copies for live streams are made only while one listens.
    const stored: StoredAlert[] | undefined = this.listeners.size > 0 ? [] : undefined;
    // Rollup increments of the whole batch, summed here: one upsert per distinct key, not per alert.
    const sums = ROLLUPS.map(() => new Map<string, number>());
    const row: Record<Dim, number> = { p: 0, rule: 0, source: 0, host: 0, container: 0, tag: 0 };
    const s = this.stmts;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const a of alerts) {
        const t = alertTimeMs(a.time);
        row.p = priorityRank(a.priority);
        row.rule = this.nameId('rule', a.rule);
        row.source = this.nameId('source', a.source);
        row.host = this.nameId('hostname', a.hostname);
        const containerValue = containerOf(a.output_fields);
        row.container = containerValue === undefined ? 0 : this.nameId('container', containerValue);
        const r = s.alert!.run(t, row.p, row.rule, row.source, row.host, row.container, a.uuid, a.time,
          JSON.stringify(a.tags), a.output, stringifyJson(a.output_fields)); // exact 64-bit integers
        if (r.changes === 0) continue; // already stored (redelivered)
        const id = Number(r.lastInsertRowid);
        s.fts!.run(id, a.output, unwrittenFieldText(a.output_fields, a.output));
        const tagIds = this.tagIds(a.tags);
        for (const tagId of tagIds) s.tag!.run(id, tagId);
        for (let i = 0; i < ROLLUPS.length; i++) {
          const ru = ROLLUPS[i]!;
          const b = Math.floor(t / ru.grainMs);
          if (!ru.dims.includes('tag')) {
            bump(sums[i]!, rollupKey(b, ru.dims, row));
            continue;
          }
          for (const tagId of tagIds) {
            row.tag = tagId;
            bump(sums[i]!, rollupKey(b, ru.dims, row));
          }
        }
        stored?.push({ ...a, id, timeMs: t });
      }
      sums.forEach((m, i) => { for (const [k, n] of m) this.rollupAdd[i]!.run(...k.split(',').map(Number), n); });
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.forgetUncommittedNames();
      throw err;
    }
    this.pending = [];
    // Near the size limit the WAL must not keep a copy of the last transaction's pages on disk.
    if (this.opts.maxBytes > 0 && fileSize(`${this.opts.file}-wal`) > this.walBytes) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    if (stored) for (const l of this.listeners) l(stored);
  }

  /** The distinct tags of an alert as name ids. */
  private tagIds(tags: readonly string[]): number[] {
    const ids: number[] = [];
    for (const tag of tags) {
      const id = this.nameId('tag', tag);
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  list(q: AlertQuery): AlertPage {
    const limit = clampLimit(q.limit);
    const w = this.where(q);
    if (!w) return { alerts: [] };
    const c = decodeCursor(q.cursor);
    const page = (sql: string, params: SQLInputValue[], from: string) => {
      const conds = [sql, c ? '(t, id) < (?, ?)' : ''].filter(Boolean).join(' AND ');
      return this.prepare(`SELECT alerts.* FROM ${from} ${conds ? `WHERE ${conds}` : ''} ORDER BY t DESC, id DESC LIMIT ?`)
        .all(...params, ...(c ? [c.t, c.id] : []), limit + 1) as Row[];
    };
    let rows: Row[];
    // A search matching few alerts is answered from the search index, then sorted; one matching many walks
    // the time index against the set of matches (its cost grows with the matches: ~0.6 s for 100,000).
    if (w.fts && this.ftsMatches(w.fts.query) <= FTS_DRIVEN_MAX) {
      rows = page(w.fts.sql, [w.fts.query, ...w.fts.params], SEARCH_JOIN);
    } else {
      rows = page(w.sql, w.params, 'alerts');
    }
    const more = rows.length > limit;
    const alerts = rows.slice(0, limit).map((r) => this.decode(r));
    const last = alerts.at(-1);
    return more && last ? { alerts, next: encodeCursor(last.timeMs, last.id) } : { alerts };
  }

  private ftsMatches(query: string): number {
    return (this.prepare('SELECT count(*) AS n FROM alerts_fts WHERE alerts_fts MATCH ?').get(query) as { n: number }).n;
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
      for (const r of this.prepare(part.sql).all(...part.params) as { bk: number; p: number; n: number }[]) {
        const t = r.bk * bucketMs;
        let bucket = buckets.get(t);
        if (!bucket) buckets.set(t, bucket = { t, total: 0, byPriority: {} });
        const name = PRIORITIES[r.p - 1]!;
        bucket.total += r.n;
        bucket.byPriority[name] = (bucket.byPriority[name] ?? 0) + r.n;
      }
    }
    return [...buckets.values()].filter((b) => b.total > 0).sort((a, b) => a.t - b.t);
  }

  /**
   * Deletes the oldest alerts first if `incoming` more could push the file over maxbytes. Measuring the size
   * takes a query, three pragmas and two stat calls, so it is done again only once the batches since the
   * last measurement could have used half of the room that was left (the WAL is checked after every batch).
   */
  private makeRoom(incoming: number): void {
    // An alert costs about its share of the used pages, and is written to the WAL before the main file.
    const estimate = 3 * incoming * this.perAlert;
    if (estimate <= this.headroom) {
      this.headroom -= estimate;
      return;
    }
    const count = this.alertCount();
    this.perAlert = count > 0 ? this.usedBytes() / count : 2048;
    const need = 3 * incoming * this.perAlert;
    const limit = this.opts.maxBytes * 0.95;
    if (this.sizeBytes() + need > limit) this.enforceRetention(need);
    // The WAL may grow up to its own limit meanwhile (it is checked after each batch): leave room for it.
    this.headroom = Math.max(0, (limit - this.sizeBytes() - this.walBytes - need) / 2);
  }

  /** Bytes of estimated growth allowed before makeRoom measures again, and the last measured bytes per alert. */
  private headroom = 0;
  private perAlert = 2048;

  private alertCount(): number {
    // Two subqueries: min() and max() together in one SELECT would scan a whole index.
    return (this.prepare('SELECT (SELECT max(id) FROM alerts) - (SELECT min(id) FROM alerts) + 1 AS n').get() as { n: number | null }).n ?? 0;
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
    const pages = (this.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    const free = (this.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    const size = (this.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
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
      for (const ru of ROLLUPS) {
        const tagged = ru.dims.includes('tag');
        const cols = ru.dims.map((d) => (d === 'tag' ? 'g.tag' : `alerts.${d}`));
        const sub = this.prepare(`UPDATE ${ru.table} SET n = n - ? WHERE b = ? AND ${ru.dims.map((d) => `${d} = ?`).join(' AND ')}`);
        const groups = this.prepare(`SELECT alerts.t / ${ru.grainMs} AS b, ${cols.map((c, i) => `${c} AS d${i}`).join(', ')}, count(*) AS n
          FROM alerts ${tagged ? 'JOIN alert_tags g ON g.alert = alerts.id' : ''} WHERE alerts.id IN temp.doomed GROUP BY b, ${cols.join(', ')}`).all() as Row[];
        let minB = Infinity;
        let maxB = -Infinity;
        for (const r of groups) {
          sub.run(r.n!, r.b!, ...ru.dims.map((_, i) => r[`d${i}`]!));
          minB = Math.min(minB, r.b as number);
          maxB = Math.max(maxB, r.b as number);
        }
        // Only the buckets just decremented can have reached zero (the whole table is large in a large store).
        if (groups.length > 0) this.prepare(`DELETE FROM ${ru.table} WHERE b >= ? AND b <= ? AND n <= 0`).run(minB, maxB);
      }
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
    const col: Dim = by === 'priority' ? 'p' : by === 'hostname' ? 'host' : by;
    // An alert counts once per tag it carries. Column names of alerts and alert_tags do not overlap.
    const select = col === 'tag' ? 'SELECT g.tag AS k, count(*) AS n' : `SELECT ${col} AS k, count(*) AS n`;
    const join = col === 'tag' ? ' JOIN alert_tags g ON g.alert = alerts.id' : '';
    const group = col === 'tag' ? 'GROUP BY g.tag' : `GROUP BY ${col}`;
    const raw = (cond: string) => `${select} FROM alerts${join} ${cond ? `WHERE ${cond}` : ''} ${group}`;
    if (w.fts) return [this.searchDriven(w, (from, cond) => `${select} FROM ${from}${join} ${cond ? `WHERE ${cond}` : ''} ${group}`)];
    // A tag rollup row holds one tag, so it cannot say which other tags an alert of a filtered tag has.
    const ru = w.rawOnly || (col === 'tag' && w.dims.some((d) => d.dim === 'tag')) ? undefined : chooseRollup(new Set([...w.dims.map((d) => d.dim), col]));
    if (!ru) return [{ sql: raw(w.sql), params: w.params }];
    return this.rollupParts(q, w, ru, raw, (cond) => `SELECT ${col} AS k, sum(n) AS n FROM ${ru.table} ${cond} GROUP BY ${col}`);
  }

  private histogramParts(q: AlertQuery, w: Where, bucketMs: number): { sql: string; params: SQLInputValue[] }[] {
    const raw = (cond: string, from = 'alerts') => `SELECT t / ${bucketMs} AS bk, p, count(*) AS n FROM ${from} ${cond ? `WHERE ${cond}` : ''} GROUP BY bk, p`;
    if (w.fts) return [this.searchDriven(w, (from, cond) => raw(cond, from))];
    const ru = w.rawOnly ? undefined : chooseRollup(new Set([...w.dims.map((d) => d.dim), 'p']), bucketMs);
    if (!ru) return [{ sql: raw(w.sql), params: w.params }];
    const per = bucketMs / ru.grainMs;
    return this.rollupParts(q, w, ru, raw, (cond) => `SELECT b / ${per} AS bk, p, sum(n) AS n FROM ${ru.table} ${cond} GROUP BY bk, p`);
  }

  /** A count over the alerts a search matches: walk the matches, look each alert up (cost grows with matches). */
  private searchDriven(w: Where, sql: (from: string, cond: string) => string): { sql: string; params: SQLInputValue[] } {
    return { sql: sql(SEARCH_JOIN, w.fts!.sql), params: [w.fts!.query, ...w.fts!.params] };
  }

  /** Whole buckets from the rollup, the partial buckets at the range's ends from the alerts. */
  private rollupParts(q: AlertQuery, w: Where, ru: Rollup, raw: (cond: string) => string, rolled: (where: string) => string):
    { sql: string; params: SQLInputValue[] }[] {
    const parts: { sql: string; params: SQLInputValue[] }[] = [];
    const { edges, bFrom, bTo } = rangeParts(q.from, q.to, ru.grainMs);
    for (const e of edges) {
      parts.push({ sql: raw([w.sqlNoTime, 't >= ? AND t < ?'].filter(Boolean).join(' AND ')), params: [...w.paramsNoTime, e.from, e.to] });
    }
    const conds: string[] = [];
    const params: SQLInputValue[] = [];
    for (const d of w.dims) {
      conds.push(d.ids.length === 1 ? `${d.dim} = ?` : `${d.dim} IN (${d.ids.map(() => '?').join(', ')})`);
      params.push(...d.ids);
    }
    if (bFrom !== undefined) { conds.push('b >= ?'); params.push(bFrom); }
    if (bTo !== undefined) { conds.push('b < ?'); params.push(bTo); }
    parts.push({ sql: rolled(conds.length ? `WHERE ${conds.join(' AND ')}` : ''), params });
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
      output_fields: parseJson(r.fields as string) as Record<string, OutputFieldValue>,
    };
  }
}

/** A rollup row's key: its bucket and dimension values, comma-separated. */
function rollupKey(b: number, dims: readonly Dim[], row: Record<Dim, number>): string {
  let key = String(b);
  for (const d of dims) key += `,${row[d]}`;
  return key;
}

function bump(sums: Map<string, number>, key: string): void {
  sums.set(key, (sums.get(key) ?? 0) + 1);
}

/**
 * Falco's alert time to ms; an unparsable time (the router validates, so rare) is stored as now, which
 * also means a redelivery of such an alert is not recognised (uuids are unique per time).
 */
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

/**
 * WAL pages between automatic checkpoints. Each checkpoint waits for two fsyncs, so with room for it the
 * WAL grows to half its limit (up to 32 MiB) first: at 4 MiB a checkpoint came every few batches and
 * fsync waits took about half of an insert's wall-clock time. Half, so that a checkpoint comes before
 * the WAL passes its limit (which costs a blocking truncation).
 */
function checkpointPages(walBytes: number): number {
  return Math.max(Math.min(1000, Math.ceil(walBytes / 4096)), Math.min(8192, Math.ceil(walBytes / 2 / 4096)));
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
