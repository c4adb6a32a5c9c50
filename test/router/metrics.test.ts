// Prometheus metrics as Falcosidekick 2.34.1 exposes them (stats_prometheus.go, handlers.go), so its
// dashboards and alerting rules keep working: names, label names and values, and what is counted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { metricValue } from '../support/metrics.ts';
import { startRouter } from '../support/router.ts';

/** Every sample line of a metric family, as label maps. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((line) => {
    const labels: Record<string, string> = {};
    const body = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    return { labels, value: Number(line.split(' ').at(-1)) };
  });
}

// Falcosidekick's fixed labels of falco_events_total, in its order.
const FIXED = ['hostname', 'rule', 'priority', 'priority_raw', 'source', 'k8s_ns_name', 'k8s_pod_name'];

describe('Falcosidekick metric families', () => {
  test('falco_events_total: fixed labels, priority as its number, one label per custom/templated field and extralabel', async () => {
    const r = await startRouter(`
customfields: { cluster: eu-1, "a.b": x, "bad-name": y }
templatedfields: { team: '{{ printf "%s-team" (index . "k8s.ns.name") }}' }
prometheus: { extralabels: "fd.name, proc.pid" }
`);
    try {
      await postAlert(r.url, falcoAlert({ output_fields: { 'fd.name': '/etc/shadow', 'proc.pid': 4242, 'k8s.ns.name': 'prod', 'k8s.pod.name': 'web-1' } }));
      await postAlert(r.url, falcoAlert({ priority: 'Critical', hostname: '', output_fields: { 'fd.name': '/etc/passwd' } }));
      const events = samples(await r.router.metricsText(), 'falcosecurity_falcosidekick_falco_events_total');
      assert.equal(events.length, 2);
      const [warning, critical] = [events.find((e) => e.labels.priority === '4')!, events.find((e) => e.labels.priority === '6')!];
      // "bad-name" is no valid label name: left out, as Falcosidekick does; proc.pid is not a string: "".
      assert.deepEqual(Object.keys(warning.labels).sort(), [...FIXED, 'cluster', 'a_b', 'team', 'fd_name', 'proc_pid'].sort());
      assert.deepEqual(warning.labels, {
        hostname: 'node-1', rule: 'Read sensitive file untrusted', priority: '4', priority_raw: 'warning', source: 'syscall',
        k8s_ns_name: 'prod', k8s_pod_name: 'web-1', cluster: 'eu-1', a_b: 'x', team: 'prod-team', fd_name: '/etc/shadow', proc_pid: '',
      });
      assert.equal(warning.value, 1);
      assert.equal(critical.labels.hostname, 'unknown');
      assert.equal(critical.labels.priority_raw, 'critical');
      assert.equal(critical.labels.k8s_ns_name, '');
      assert.equal(critical.labels.team, '%!s(<nil>)-team');
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('inputs_total by source and status; the /test alert counts with source "internal"', async () => {
    const r = await startRouter('');
    try {
      await postAlert(r.url, falcoAlert());
      await postAlert(r.url, { rule: 'no priority' });
      await fetch(`${r.url}/test`, { method: 'POST' });
      const m = await r.router.metricsText();
      assert.equal(metricValue(m, 'falcosecurity_falcosidekick_inputs_total', { source: 'requests', status: 'accepted' }), 2);
      assert.equal(metricValue(m, 'falcosecurity_falcosidekick_inputs_total', { source: 'requests', status: 'rejected' }), 1);
      assert.equal(metricValue(m, 'falcosecurity_falcosidekick_falco_events_total', { rule: 'Test rule', source: 'internal', priority: '1', hostname: 'falcosidekick' }), 1);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('outputs_total counts alerts, not sends: a batch of 20 alerts to one output is 20', async () => {
    const rx = await HttpReceiver.start();
    const r = await startRouter(`webhook: { address: "${rx.url}/" }\n`);
    try {
      await Promise.all(Array.from({ length: 20 }, (_, n) => postAlert(r.url, falcoAlert({ output_fields: { n } }))));
      await eventually(async () => assert.equal(
        metricValue(await r.router.metricsText(), 'falcosecurity_falcosidekick_outputs_total', { destination: 'webhook', status: 'ok' }), 20));
      assert.equal(rx.requests.length, 20);
    } finally {
      await r.router.close({ drainMs: 0 });
      await rx.close();
    }
  });

  test('process_* metrics under the Go collector\'s names, and promhttp\'s scrape counter', async () => {
    const r = await startRouter('');
    try {
      await fetch(`${r.url}/metrics`);
      const text = await (await fetch(`${r.url}/metrics`)).text();
      // The process_* names Falcosidekick 2.34.1 exposes (its Go collector), each with a value.
      for (const name of ['process_cpu_seconds_total', 'process_open_fds', 'process_max_fds', 'process_resident_memory_bytes',
        'process_virtual_memory_bytes', 'process_virtual_memory_max_bytes', 'process_start_time_seconds',
        'process_network_receive_bytes_total', 'process_network_transmit_bytes_total']) {
        const s = samples(text, name);
        assert.equal(s.length, 1, name);
        assert.ok(s[0]!.value > 0, `${name} = ${s[0]!.value}`);
      }
      // Counted after each scrape's text is made, as promhttp does: this text counts the first scrape only.
      assert.equal(metricValue(text, 'promhttp_metric_handler_requests_total', { code: '200' }), 1);
      assert.ok(text.includes('promhttp_metric_handler_requests_total{code="503"} 0'));
      assert.equal(samples(text, 'promhttp_metric_handler_requests_in_flight')[0]?.value, 1);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });
});
