import { useEffect, useRef, useState } from 'preact/hooks';
import { PRIORITIES } from '../api.ts';
import { LIST_KEYS, RANGES, type Filters } from '../filters.ts';

const LABEL: Record<string, string> = { rule: 'rule', source: 'source', hostname: 'host', tag: 'tag', container: 'container' };

/** Time range, priorities, search, and the chips of the other active filters (click × to drop one). */
export function FilterBar({ filters, onChange, search = true }: { filters: Filters; onChange: (f: Filters) => void; search?: boolean }) {
  const [q, setQ] = useState(filters.q);
  // Follow the URL's q when it changes (back, a link), but not on mount: effects run after the first paint,
  // and text typed in between would be wiped.
  const shownQ = useRef(filters.q);
  useEffect(() => {
    if (filters.q === shownQ.current) return;
    shownQ.current = filters.q;
    setQ(filters.q);
  }, [filters.q]);
  const togglePriority = (p: string) => onChange({ ...filters, priority: filters.priority.includes(p) ? filters.priority.filter((x) => x !== p) : [...filters.priority, p] });
  const absolute = Boolean(filters.from || filters.to);
  return (
    <div class="filter-bar" data-testid="filter-bar">
      <div class="row">
        <label class="field">
          <span>Time</span>
          <select data-testid="range" value={absolute ? 'custom' : filters.range}
            onChange={(e) => onChange({ ...filters, range: (e.target as HTMLSelectElement).value, from: '', to: '' })}>
            {absolute && <option value="custom">custom</option>}
            {RANGES.map(([v, l]) => <option value={v}>{l}</option>)}
          </select>
        </label>
        {search && (
          <form class="field grow" onSubmit={(e) => { e.preventDefault(); onChange({ ...filters, q: q.trim() }); }}>
            <span>Search</span>
            <input data-testid="search" type="search" placeholder="words in the output or field values" value={q}
              onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
          </form>
        )}
      </div>
      <div class="row chips" role="group" aria-label="priorities">
        {PRIORITIES.map((p) => (
          <button type="button" data-testid={`prio-${p}`} class={`chip prio-${p} ${filters.priority.includes(p) ? 'on' : ''}`}
            aria-pressed={filters.priority.includes(p)} onClick={() => togglePriority(p)}>{p}</button>
        ))}
        {LIST_KEYS.filter((k) => k !== 'priority').flatMap((k) => filters[k].map((v) => (
          <span class="chip on active-filter" data-testid={`active-${k}`}>
            {LABEL[k]}: {v || '(none)'}
            <button type="button" aria-label={`remove ${LABEL[k]} ${v}`} onClick={() => onChange({ ...filters, [k]: filters[k].filter((x) => x !== v) })}>×</button>
          </span>
        )))}
        {absolute && (
          <span class="chip on">{filters.from || '…'} → {filters.to || 'now'}
            <button type="button" aria-label="clear time range" onClick={() => onChange({ ...filters, from: '', to: '' })}>×</button>
          </span>
        )}
      </div>
    </div>
  );
}
