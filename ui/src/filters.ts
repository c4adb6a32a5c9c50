/**
 * The filters of a page, kept in the URL's query string so a link shows the same view:
 * priority/rule/source/hostname/tag/container repeat, q is the search, range is relative
 * (15m, 1h, 24h, 7d, 30d) unless from/to (ISO times) are given.
 */
export interface Filters {
  priority: string[]; rule: string[]; source: string[]; hostname: string[]; tag: string[]; container: string[];
  q: string; range: string; from: string; to: string;
}

export const LIST_KEYS = ['priority', 'rule', 'source', 'hostname', 'tag', 'container'] as const;
export const RANGES: [string, string][] = [['15m', '15 minutes'], ['1h', '1 hour'], ['6h', '6 hours'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days'], ['all', 'all time']];
const UNIT: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  return {
    priority: p.getAll('priority'), rule: p.getAll('rule'), source: p.getAll('source'), hostname: p.getAll('hostname'),
    tag: p.getAll('tag'), container: p.getAll('container'),
    q: p.get('q') ?? '', range: p.get('range') ?? '24h', from: p.get('from') ?? '', to: p.get('to') ?? '',
  };
}

/** The query string for the page's own URL. */
export function urlQuery(f: Filters): string {
  const p = new URLSearchParams();
  for (const k of LIST_KEYS) for (const v of f[k]) p.append(k, v);
  if (f.q) p.set('q', f.q);
  if (f.from || f.to) {
    if (f.from) p.set('from', f.from);
    if (f.to) p.set('to', f.to);
  } else if (f.range !== '24h') p.set('range', f.range);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The API's parameters for these filters, with a relative range resolved against `now`. */
export function apiParams(f: Filters, now = Date.now()): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of LIST_KEYS) for (const v of f[k]) p.append(k, v);
  if (f.q) p.set('q', f.q);
  const { from, to } = timeRange(f, now);
  if (from !== undefined) p.set('from', String(from));
  if (to !== undefined) p.set('to', String(to));
  return p;
}

export function timeRange(f: Filters, now = Date.now()): { from?: number; to?: number } {
  if (f.from || f.to) {
    const from = f.from ? Date.parse(f.from) : undefined;
    const to = f.to ? Date.parse(f.to) : undefined;
    return { from: Number.isNaN(from) ? undefined : from, to: Number.isNaN(to) ? undefined : to };
  }
  const m = /^(\d+)([mhd])$/.exec(f.range);
  return m ? { from: now - Number(m[1]) * UNIT[m[2]!]! } : {};
}

export function withFilter(f: Filters, key: (typeof LIST_KEYS)[number], value: string): Filters {
  return { ...f, [key]: f[key].includes(value) ? f[key] : [...f[key], value] };
}
