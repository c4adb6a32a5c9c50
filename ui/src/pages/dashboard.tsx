import { useEffect, useState } from 'preact/hooks';
import { api, PRIORITIES, type Bucket, type Count } from '../api.ts';
import { CountList } from '../components/count-list.tsx';
import { FilterBar } from '../components/filter-bar.tsx';
import { Timeline } from '../components/timeline.tsx';
import { apiParams, timeRange, urlQuery, withFilter, type Filters } from '../filters.ts';

interface Data {
  total: number; byPriority: Count[]; rules: Count[]; sources: Count[]; hosts: Count[]; tags: Count[];
  buckets: Bucket[]; bucketMs: number; from?: number; to?: number;
}

function by(p: URLSearchParams, dim: string, limit: number): URLSearchParams {
  const q = new URLSearchParams(p);
  q.set('by', dim);
  q.set('limit', String(limit));
  return q;
}

/** Counts by priority, the top rules, sources, hosts and tags, and the timeline over the chosen range. */
export function Dashboard({ filters, setFilters }: { filters: Filters; setFilters: (f: Filters) => void }) {
  const [data, setData] = useState<Data>();
  const [error, setError] = useState('');
  useEffect(() => {
    const now = Date.now();
    const p = apiParams(filters, now);
    const { from, to } = timeRange(filters, now);
    Promise.all([
      api.counts(by(p, 'priority', 10)), api.counts(by(p, 'rule', 10)), api.counts(by(p, 'source', 10)),
      api.counts(by(p, 'hostname', 10)), api.counts(by(p, 'tag', 12)), api.histogram(p),
    ]).then(([pr, ru, so, ho, ta, hi]) => {
      setData({ total: pr.total, byPriority: pr.counts, rules: ru.counts, sources: so.counts, hosts: ho.counts, tags: ta.counts,
        buckets: hi.buckets, bucketMs: hi.bucketMs, from: from ?? hi.buckets[0]?.t, to });
      setError('');
    }, (e: Error) => setError(e.message));
  }, [urlQuery(filters)]);
  const events = (f: Filters) => `/ui/events${urlQuery(f)}`;
  const prio = new Map(data?.byPriority.map((c) => [c.value, c.count]));
  return (
    <div class="page">
      <FilterBar filters={filters} onChange={setFilters} />
      {error && <p class="error">{error}</p>}
      {data && (
        <>
          <section class="tiles" data-testid="priority-counts">
            <a class="tile total" href={events(filters)} data-testid="total">
              <span class="n">{data.total.toLocaleString('en-US')}</span><span>alerts</span>
            </a>
            {PRIORITIES.map((p) => (
              <a class={`tile prio-${p}`} href={events({ ...filters, priority: [p] })} data-testid={`tile-${p}`} data-count={prio.get(p) ?? 0}>
                <span class="n">{(prio.get(p) ?? 0).toLocaleString('en-US')}</span><span>{p}</span>
              </a>
            ))}
          </section>
          <section class="card">
            <h2>Timeline <small class="muted">drag across to zoom</small></h2>
            <Timeline buckets={data.buckets} bucketMs={data.bucketMs} from={data.from} to={data.to}
              onSelect={(a, b) => setFilters({ ...filters, from: new Date(a).toISOString(), to: new Date(b).toISOString() })} />
          </section>
          <div class="grid">
            <CountList title="Top rules" testid="top-rules" counts={data.rules} href={(v) => events(withFilter(filters, 'rule', v))} />
            <CountList title="Hosts" testid="top-hosts" counts={data.hosts} href={(v) => events(withFilter(filters, 'hostname', v))} />
            <CountList title="Sources" testid="top-sources" counts={data.sources} href={(v) => events(withFilter(filters, 'source', v))} />
            <CountList title="Tags" testid="top-tags" counts={data.tags} href={(v) => events(withFilter(filters, 'tag', v))} />
          </div>
        </>
      )}
    </div>
  );
}
