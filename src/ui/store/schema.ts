import { rollupDdl } from './rollups.ts';

/**
 * The store's tables. Repeated strings (rule, source, hostname, tag, container) are kept once in `names`
 * and referenced by id, which keeps rows small and grouping cheap. The rollup tables (rollups.ts) keep
 * counts per hour or minute, so dashboard counts and histograms read thousands of rows instead of millions.
 */
export const SCHEMA_VERSION = 3;
/** Older versions this one opens, and what brings them up to date (run before DDL). */
export const MIGRATIONS: Record<number, string> = {
  // v2 kept uuids unique on their own, an index written at random places (see alerts_t_uuid).
  2: 'DROP INDEX IF EXISTS alerts_uuid; DROP INDEX IF EXISTS alerts_t',
};

export const NAME_KINDS = { rule: 1, source: 2, hostname: 3, tag: 4, container: 5 } as const;
export type NameKind = keyof typeof NAME_KINDS;

export const DDL = `
CREATE TABLE IF NOT EXISTS names (
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  UNIQUE (kind, value)
);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  t INTEGER NOT NULL,
  p INTEGER NOT NULL,
  rule INTEGER NOT NULL,
  source INTEGER NOT NULL,
  host INTEGER NOT NULL,
  container INTEGER NOT NULL,
  uuid TEXT NOT NULL,
  time TEXT NOT NULL,
  tags TEXT NOT NULL,
  output TEXT NOT NULL,
  fields TEXT NOT NULL
);
-- The spool delivers at least once: an alert redelivered after a crash is stored once, by its uuid. A
-- redelivery carries the same time, so the key leads with it: new keys land at the index's end (a few
-- pages per batch) instead of at random uuid places all over it (a page per alert). It is the time index too.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_t_uuid ON alerts (t, uuid);
CREATE INDEX IF NOT EXISTS alerts_p ON alerts (p, t);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, t);
CREATE INDEX IF NOT EXISTS alerts_host ON alerts (host, t);
CREATE INDEX IF NOT EXISTS alerts_container ON alerts (container, t);
CREATE TABLE IF NOT EXISTS alert_tags (
  alert INTEGER NOT NULL,
  tag INTEGER NOT NULL,
  PRIMARY KEY (alert, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_tags_tag ON alert_tags (tag, alert);
CREATE VIRTUAL TABLE IF NOT EXISTS alerts_fts USING fts5 (output, fields, content='', contentless_delete=1, detail=none);
${rollupDdl()}
`;
