/**
 * Falcosidekick keys for outputs and features Peregrine does not have. A Falcosidekick config (often a
 * copy of its config_example.yaml with every output present) and the environment its Helm chart renders
 * must still load: these keys are listed in one warning line as ignored instead of rejected as unknown.
 * Keys that Peregrine's schema knows are never ignored, so outputs added later take over automatically.
 */

/** Top-level sections (and top-level keys) of Falcosidekick that Peregrine lacks. */
export const FALCOSIDEKICK_ONLY_KEYS: readonly string[] = [
  'alertmanager', 'azure', 'cliq', 'cloudevents', 'datadog', 'datadoglogs', 'discord', 'dogstatsd', 'dynatrace',
  'elasticsearch', 'fission', 'gcp', 'googlechat', 'gotify', 'grafana', 'grafanaoncall', 'influxdb', 'kafka',
  'kafkarest', 'kubeless', 'logstash', 'loki', 'mattermost', 'mqtt', 'n8n', 'nats', 'nodered', 'openfaas',
  'openobserve', 'opsgenie', 'otlp', 'pagerduty', 'policyreport', 'prometheus', 'quickwit', 'rabbitmq', 'redis',
  'rocketchat', 'smtp', 'splunk', 'spyderbat', 'stan', 'statsd', 'sumologic', 'syslog', 'talon', 'teams',
  'tekton', 'telegram', 'timescaledb', 'wavefront', 'webex', 'webui', 'yandex', 'zincsearch', 'aws',
  'outputfieldformat',
];

/**
 * Keys inside sections Peregrine has, that it does not act on. aws.rolearn and aws.externalid: Falcosidekick
 * 2.34.1 itself no longer reads them (it takes the AWS SDK's default credential chain), and neither does
 * Peregrine. The other aws.* sections are outputs Peregrine lacks.
 */
export const FALCOSIDEKICK_IGNORED_SUBKEYS: readonly string[] = [
  'aws.rolearn', 'aws.externalid', 'aws.lambda', 'aws.sqs', 'aws.cloudwatchlogs', 'aws.s3', 'aws.securitylake',
  'aws.kinesis',
];

/** Is this lower-cased key path one of Falcosidekick's that Peregrine ignores? */
export function isIgnoredFalcosidekickKey(path: readonly string[], knownTopLevel: ReadonlySet<string>): boolean {
  if (path.length === 0) return false;
  if (!knownTopLevel.has(path[0]!) && FALCOSIDEKICK_ONLY_KEYS.includes(path[0]!)) return true;
  const dotted = path.join('.');
  return FALCOSIDEKICK_IGNORED_SUBKEYS.some((k) => dotted === k || dotted.startsWith(`${k}.`));
}

/**
 * Environment variables that set an ignored Falcosidekick key (ROCKETCHAT_WEBHOOKURL, AWS_ROLEARN …).
 * Empty ones are unset, as for Falcosidekick, so the chart's many "" variables are not listed.
 */
export function ignoredEnvNames(env: Record<string, string | undefined>, knownTopLevel: ReadonlySet<string>): string[] {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const k of FALCOSIDEKICK_ONLY_KEYS) {
    if (knownTopLevel.has(k)) continue;
    exact.add(k.toUpperCase());
    prefixes.push(`${k.toUpperCase()}_`);
  }
  for (const k of FALCOSIDEKICK_IGNORED_SUBKEYS) {
    const name = k.replaceAll('.', '_').toUpperCase();
    exact.add(name);
    prefixes.push(`${name}_`);
  }
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && env[name] !== '' && !isServiceLink(name, env[name])
      && (exact.has(name) || prefixes.some((p) => name.startsWith(p))))
    .sort();
}

/** Kubernetes' service-link variables (a Service named "loki" gives LOKI_SERVICE_HOST, LOKI_PORT=tcp://…). */
function isServiceLink(name: string, value: string): boolean {
  if (/_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/.test(name)) return true;
  if (/_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name)) return true;
  return name.endsWith('_PORT') && /^(tcp|udp|sctp):\/\//.test(value);
}
