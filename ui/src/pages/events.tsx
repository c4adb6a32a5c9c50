import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Alert } from '../api.ts';
import { FilterBar } from '../components/filter-bar.tsx';
import { apiParams, timeRange, urlQuery, withFilter, type Filters } from '../filters.ts';

const PAGE = 50;

export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { hour12: false });
}

/**
 * The alert table: filters, search, time range, cursor pages (Older/Newer), live updates over
 * server-sent events while the first page is shown, export of exactly the filtered rows.
 */
export function Events({ filters, setFilters }: { filters: Filters; setFilters: (f: Filters) => void }) {
  const [rows, setRows] = useState<Alert[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const [total, setTotal] = useState<number>();
  const [live, setLive] = useState(true);
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [error, setError] = useState('');
  const key = urlQuery(filters);
  const cursor = cursors.at(-1);
  const seen = useRef(new Set<number>());

  useEffect(() => { setCursors([]); }, [key]);
  useEffect(() => {
    const p = apiParams(filters);
    p.set('limit', String(PAGE));
    if (cursor) p.set('cursor', cursor);
    api.alerts(p).then((r) => {
      setRows(r.alerts); setNext(r.next); setError('');
      seen.current = new Set(r.alerts.map((a) => a.id));
    }, (e: Error) => setError(e.message));
    const c = apiParams(filters);
    c.set('by', 'priority');
    api.counts(c).then((r) => setTotal(r.total), () => {});
  }, [key, cursor]);

  // Live: only on the newest page and for ranges that reach now.
  const { to } = timeRange(filters);
  const streaming = live && !cursor && to === undefined;
  useEffect(() => {
    if (!streaming) return;
    const p = apiParams(filters);
    p.delete('from');
    const es = new EventSource(`/api/v1/stream?${p}`);
    es.addEventListener('alert', (ev) => {
      const a = JSON.parse((ev as MessageEvent<string>).data) as Alert;
      if (seen.current.has(a.id)) return;
      seen.current.add(a.id);
      setRows((rs) => [a, ...rs].sort((x, y) => Date.parse(y.time) - Date.parse(x.time) || y.id - x.id).slice(0, PAGE));
      setFresh((f) => new Set(f).add(a.id));
      setTotal((t) => (t === undefined ? t : t + 1));
    });
    return () => es.close();
  }, [key, streaming]);

  const exportHref = (format: string) => {
    const p = apiParams(filters);
    p.set('format', format);
    return `/api/v1/export?${p}`;
  };
  return (
    <div class="page">
      <FilterBar filters={filters} onChange={setFilters} />
      <div class="toolbar">
        <span data-testid="total-events">{total === undefined ? '' : `${total.toLocaleString('en-US')} alerts`}</span>
        <label class="live"><input type="checkbox" checked={live} data-testid="live" onChange={(e) => setLive((e.target as HTMLInputElement).checked)} />
          live {streaming ? <span class="dot" title="receiving new alerts" /> : null}</label>
        <span class="grow" />
        <a class="button" data-testid="export-csv" href={exportHref('csv')} download>Export CSV</a>
        <a class="button" data-testid="export-ndjson" href={exportHref('ndjson')} download>Export NDJSON</a>
      </div>
      {error && <p class="error">{error}</p>}
      <div class="table-wrap">
        <table class="events" data-testid="events-table">
          <thead><tr><th>Time</th><th>Priority</th><th>Rule</th><th class="hide-narrow">Host</th><th>Output</th></tr></thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} class={fresh.has(a.id) ? 'fresh' : ''} data-testid="event-row" data-id={a.id}>
                <td class="nowrap"><a href={`/ui/alert/${a.id}`}>{shortTime(a.time)}</a></td>
                <td><button type="button" class={`badge prio-${a.priority}`} title="filter on this priority"
                  onClick={() => setFilters({ ...filters, priority: [a.priority] })}>{a.priority}</button></td>
                <td><button type="button" class="link" title="filter on this rule" onClick={() => setFilters(withFilter(filters, 'rule', a.rule))}>{a.rule}</button></td>
                <td class="hide-narrow"><button type="button" class="link" onClick={() => setFilters(withFilter(filters, 'hostname', a.hostname))}>{a.hostname}</button></td>
                <td class="output"><a href={`/ui/alert/${a.id}`} data-testid="open-alert">{a.output}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && !error && <p class="muted empty">No alerts match.</p>}
      </div>
      <div class="pager">
        <button type="button" disabled={!cursor} onClick={() => setCursors([])}>Newest</button>
        <button type="button" disabled={!cursor} data-testid="newer" onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
        <button type="button" disabled={!next} data-testid="older" onClick={() => next && setCursors([...cursors, next])}>Older</button>
      </div>
    </div>
  );
}
