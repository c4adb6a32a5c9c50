import { useEffect, useState } from 'preact/hooks';
import { api, type Alert } from '../api.ts';
import { readFilters, urlQuery, withFilter } from '../filters.ts';

function Copy({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button type="button" class="button" onClick={() => {
      navigator.clipboard?.writeText(text).then(() => { setDone(true); setTimeout(() => setDone(false), 1500); }, () => {});
    }}>{done ? 'Copied' : label}</button>
  );
}

/** One alert: every field, the JSON, copy buttons, and a Falco exception for it (rule tuning). */
export function AlertDetail({ id }: { id: string }) {
  const [a, setA] = useState<Alert>();
  const [snippet, setSnippet] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    api.alert(id).then(setA, (e: Error) => setError(e.message));
    api.exception(id).then(setSnippet, () => setSnippet(''));
  }, [id]);
  if (error) return <div class="page"><p class="error">{error}</p></div>;
  if (!a) return <div class="page"><p class="muted">Loading…</p></div>;
  const json = JSON.stringify(a, null, 2);
  const base = readFilters('');
  return (
    <div class="page detail" data-testid="alert-detail">
      <h1><span class={`badge prio-${a.priority}`}>{a.priority}</span> {a.rule}</h1>
      <p class="output-line" data-testid="detail-output">{a.output}</p>
      <section class="card">
        <h2>Fields</h2>
        <table class="fields" data-testid="fields">
          <tbody>
            <tr><th>time</th><td>{a.time}</td></tr>
            <tr><th>rule</th><td><a href={`/ui/events${urlQuery(withFilter(base, 'rule', a.rule))}`}>{a.rule}</a></td></tr>
            <tr><th>priority</th><td>{a.priority}</td></tr>
            <tr><th>source</th><td>{a.source}</td></tr>
            <tr><th>hostname</th><td><a href={`/ui/events${urlQuery(withFilter(base, 'hostname', a.hostname))}`}>{a.hostname}</a></td></tr>
            <tr><th>tags</th><td>{a.tags.map((t) => <a class="chip" href={`/ui/events${urlQuery(withFilter(base, 'tag', t))}`}>{t}</a>)}</td></tr>
            <tr><th>uuid</th><td>{a.uuid}</td></tr>
            {Object.entries(a.output_fields).map(([k, v]) => (
              <tr><th>{k}</th><td>{v === null ? <span class="muted">null</span> : Array.isArray(v) ? v.join(', ') : String(v)}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>JSON <Copy text={json} label="Copy JSON" /></h2>
        <pre data-testid="alert-json">{json}</pre>
      </section>
      <section class="card">
        <h2>Tune: exception for this alert <Copy text={snippet} label="Copy YAML" /></h2>
        <p class="muted">Falco stops alerting on events with these field values once this file is loaded after the rule's own.</p>
        <pre data-testid="exception-yaml">{snippet}</pre>
      </section>
    </div>
  );
}
