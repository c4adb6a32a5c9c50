import type { Count } from '../api.ts';

/** A ranked list with proportional bars; each entry links to the events it counts. */
export function CountList({ title, counts, href, testid }: { title: string; counts: Count[]; href: (value: string) => string; testid: string }) {
  const max = Math.max(1, ...counts.map((c) => c.count));
  return (
    <section class="card" data-testid={testid}>
      <h2>{title}</h2>
      {counts.length === 0 ? <p class="muted">none in this range</p> : (
        <ol class="count-list">
          {counts.map((c) => (
            <li>
              <a href={href(c.value)} title={c.value}>
                <span class="bar" style={{ width: `${(100 * c.count) / max}%` }} />
                <span class="label">{c.value || '(none)'}</span>
                <span class="n" data-testid="count">{c.count.toLocaleString('en-US')}</span>
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
