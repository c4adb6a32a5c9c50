import type { AlertFilter, StoredAlert } from '../store/contract.ts';
import { fieldText, matchesSearch } from '../store/fts.ts';

/** The store's filter in JavaScript, for alerts pushed to live streams as they are stored. */
export function liveMatch(f: AlertFilter): (a: StoredAlert) => boolean {
  return (a) => {
    if (f.from !== undefined && a.timeMs < f.from) return false;
    if (f.to !== undefined && a.timeMs >= f.to) return false;
    if (f.priorities?.length && !f.priorities.includes(a.priority)) return false;
    if (f.rules?.length && !f.rules.includes(a.rule)) return false;
    if (f.sources?.length && !f.sources.includes(a.source)) return false;
    if (f.hostnames?.length && !f.hostnames.includes(a.hostname)) return false;
    if (f.tags?.length && !f.tags.some((t) => a.tags.includes(t))) return false;
    if (f.containers?.length && !f.containers.includes(String(a.output_fields['container.id'] ?? ''))) return false;
    if (f.search && !matchesSearch(f.search, `${a.output} ${fieldText(a.output_fields)}`)) return false;
    return true;
  };
}
