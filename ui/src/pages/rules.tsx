import { useEffect, useState } from 'preact/hooks';
import { api, type Count } from '../api.ts';
import { FilterBar } from '../components/filter-bar.tsx';
import { apiParams, urlQuery, withFilter, type Filters } from '../filters.ts';

/** Rule tuning: the noisiest rules in the range, their share, and their latest alert (for an exception). */
export function Rules({ filters, setFilters }: { filters: Filters; setFilters: (f: Filters) => void }) {
  const [rows, setRows] = useState<(Count & { latest?: number })[]>([]);
  const [total, setTotal] = useState(0);
  useEffect(() => {
    const p = apiParams(filters);
    p.set('by', 'rule');
    p.set('limit', '25');
    api.counts(p).then(async (r) => {
      setTotal(r.total);
      const latest = await Promise.all(r.counts.map((c) => {
        const q = apiParams(withFilter(filters, 'rule', c.value));
        q.set('limit', '1');
        return api.alerts(q).then((x) => x.alerts[0]?.id, () => undefined);
      }));
      setRows(r.counts.map((c, i) => ({ ...c, latest: latest[i] })));
    }, () => setRows([]));
  }, [urlQuery(filters)]);
  return (
    <div class="page">
      <FilterBar filters={filters} onChange={setFilters} search={false} />
      <section class="card">
        <h2>Noisiest rules</h2>
        <table class="events" data-testid="noisy-rules">
          <thead><tr><th>Rule</th><th class="num">Alerts</th><th class="num">Share</th><th /></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td><a href={`/ui/events${urlQuery(withFilter(filters, 'rule', r.value))}`}>{r.value}</a></td>
                <td class="num">{r.count.toLocaleString('en-US')}</td>
                <td class="num">{total ? `${((100 * r.count) / total).toFixed(1)} %` : ''}</td>
                <td>{r.latest !== undefined && <a class="button" href={`/ui/alert/${r.latest}`}>Exception…</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
