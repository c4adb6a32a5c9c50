/**
 * Top-level keys of Falcosidekick's config for outputs and features Peregrine does not have.
 * A Falcosidekick config (often a copy of its config_example.yaml with every output present and empty)
 * must still load: these keys are ignored with a warning instead of rejected as unknown.
 * Keys that Peregrine's schema knows are never ignored, so outputs added later take over automatically.
 */
export const FALCOSIDEKICK_ONLY_KEYS: readonly string[] = [
  'alertmanager', 'azure', 'cliq', 'cloudevents', 'datadog', 'datadoglogs', 'discord', 'dogstatsd', 'dynatrace',
  'elasticsearch', 'fission', 'gcp', 'googlechat', 'gotify', 'grafana', 'grafanaoncall', 'influxdb', 'kafka',
  'kafkarest', 'kubeless', 'logstash', 'loki', 'mattermost', 'mqtt', 'n8n', 'nats', 'nodered', 'openfaas',
  'openobserve', 'opsgenie', 'otlp', 'pagerduty', 'policyreport', 'prometheus', 'quickwit', 'rabbitmq', 'redis',
  'rocketchat', 'smtp', 'splunk', 'spyderbat', 'stan', 'statsd', 'sumologic', 'syslog', 'talon', 'teams',
  'tekton', 'telegram', 'timescaledb', 'wavefront', 'webex', 'webui', 'yandex', 'zincsearch', 'aws',
  'mutualtlsfilespath', 'mutualtlsclient', 'tlsclient', 'outputfieldformat',
];
