// Writes charts/peregrine/values.schema.json: `node scripts/gen-values-schema.ts`.
// The `config` subtree is generated from the program's own config schema, so `helm install` rejects what
// `peregrine` would reject; the chart's own keys are described here. test/deploy/chart.test.ts checks
// that the committed file is current.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { PRIORITIES } from '../src/alert/priority.ts';
import { configSchema } from '../src/config/schema.ts';
import { FALCOSIDEKICK_ONLY_KEYS } from '../src/config/falcosidekick-keys.ts';

type Json = Record<string, unknown>;

/** "critical" -> "[Cc][Rr]…": JSON Schema patterns have no case-insensitive flag. */
function anyCase(word: string): string {
  return [...word].map((c) => `[${c.toUpperCase()}${c}]`).join('');
}
const PRIORITY_PATTERN = `^(|${[...PRIORITIES, 'info'].map(anyCase).join('|')})$`;

/** Adds what zod's transforms cannot express: the priority names. */
function refine(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(refine);
  if (node === null || typeof node !== 'object') return;
  const obj = node as Json;
  const props = obj.properties as Record<string, Json> | undefined;
  if (props?.minimumpriority) props.minimumpriority.pattern = PRIORITY_PATTERN;
  for (const v of Object.values(obj)) refine(v);
}

export function configJsonSchema(): Json {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  delete schema.$schema;
  refine(schema);
  const props = schema.properties as Record<string, Json>;
  // Falcosidekick keys Peregrine ignores (with a warning) must not fail the chart either.
  for (const key of FALCOSIDEKICK_ONLY_KEYS) props[key] ??= { description: 'Falcosidekick key Peregrine ignores.' };
  return schema;
}

const str = { type: 'string' };
const obj = { type: 'object' };
export function valuesSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      image: {
        type: 'object', additionalProperties: false,
        properties: { repository: str, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } },
      },
      imagePullSecrets: { type: 'array' },
      nameOverride: str,
      fullnameOverride: str,
      router: {
        type: 'object', additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          replicaCount: { type: 'integer', minimum: 0 },
          k8sAudit: { type: 'boolean', description: 'Run `peregrine run` without capture so /k8s-audit is served; false: `peregrine route`.' },
          resources: obj, nodeSelector: obj, tolerations: { type: 'array' }, affinity: obj,
          podAnnotations: obj, podSecurityContext: obj, securityContext: obj,
          data: {
            type: 'object', additionalProperties: false,
            description: 'The /var/lib/peregrine volume (the UI store): an emptyDir of sizeLimit, or existingClaim.',
            properties: { existingClaim: str, sizeLimit: str },
          },
          service: {
            type: 'object', additionalProperties: false,
            properties: { type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }, port: { type: 'integer', minimum: 1, maximum: 65535 }, annotations: obj },
          },
        },
      },
      detector: {
        type: 'object', additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          resources: obj, nodeSelector: obj, tolerations: { type: 'array' }, podAnnotations: obj,
          privileged: { type: 'boolean' },
          extraArgs: { type: 'array', items: str },
          spoolHostPath: { ...str, description: 'Node directory of the spool (hostPath, created when missing).' },
          containerRuntimes: {
            type: 'object', additionalProperties: false,
            description: 'Container runtime sockets mounted read-only for container.* and k8s.* fields (each enabled one must exist on every node).',
            properties: Object.fromEntries(['containerd', 'crio', 'docker', 'podman'].map((r) => [r, {
              type: 'object', additionalProperties: false,
              properties: { enabled: { type: 'boolean' }, socket: { ...str, pattern: '^/' } },
            }])),
          },
        },
      },
      config: { ...configJsonSchema(), description: 'Peregrine configuration (Falcosidekick keys); see the README.' },
      rules: { type: 'object', additionalProperties: str, description: 'Extra rule files: file name -> YAML content.' },
      secretEnv: { type: 'object', additionalProperties: str, description: 'Secret env overrides, e.g. SLACK_WEBHOOKURL.' },
      existingSecret: { ...str, description: 'Name of a Secret whose keys are env overrides (SLACK_WEBHOOKURL, KAFKA_PASSWORD …).' },
      extraVolumes: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: str } }, description: 'Pod volumes added to the router and detector (e.g. a Secret of client certificates).' },
      extraVolumeMounts: { type: 'array', items: { type: 'object', required: ['name', 'mountPath'], properties: { name: str, mountPath: { ...str, pattern: '^/' } } }, description: 'Mounts of extraVolumes in the router and detector containers.' },
      metrics: {
        type: 'object', additionalProperties: false,
        properties: {
          scrapeAnnotations: { type: 'boolean' },
          serviceMonitor: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' }, interval: str, labels: obj } },
        },
      },
    },
  };
}

if (import.meta.main) {
  const file = new URL('../charts/peregrine/values.schema.json', import.meta.url);
  writeFileSync(file, JSON.stringify(valuesSchema(), null, 2) + '\n');
  console.log('charts/peregrine/values.schema.json written');
}
