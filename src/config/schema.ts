import { z } from 'zod';
import { MAX_TIMER_MS } from './limits.ts';
import type { OutputDefinition } from '../router/output.ts';
import { outputRegistry } from '../../outputs/registry.ts';
import { minimumPriority } from './priority-schema.ts';
import { detectorSchema } from './detector-schema.ts';
import { spoolSchema } from './spool-schema.ts';
import { containerSchema } from './container-schema.ts';

/**
 * The single source of truth for Peregrine's configuration: defaults, validation, the README's
 * config reference and the Helm chart's values schema are all derived from this.
 * Key names follow Falcosidekick (lowercase, no separators) so existing configs work unchanged.
 */

/** Delivery settings any output instance may override (defaults come from the output's definition). */
export const deliverySchema = z.strictObject({
  queuesize: z.int().min(1).default(1000).meta({ description: 'Alerts of this output held in memory at once, a window over the spool (the spool holds the rest; nothing is dropped here).' }),
  maxretries: z.int().min(0).default(8).meta({ description: 'Retries of a failed send before the alert goes to the dead-letter log (counted).' }),
  initialbackoffms: z.int().min(1).max(MAX_TIMER_MS).default(500).meta({ description: 'First retry delay; doubles per attempt, with jitter.' }),
  maxbackoffms: z.int().min(1).max(MAX_TIMER_MS).default(30000).meta({ description: 'Longest retry delay.' }),
  timeoutms: z.int().min(1).max(MAX_TIMER_MS).optional().meta({ description: 'Timeout of one send (default per output, 10000).' }),
  ratepersecond: z.number().min(0).optional().meta({ description: 'Sustained sends per second, 0 = unlimited (Slack default 1).' }),
  maxconcurrentrequests: z.int().min(1).optional().meta({ description: 'Sends in flight at once (Falcosidekick key). Webhook and SNS adapt it to latency and errors (AIMD) up to this (default 64); others use it as is (default 1).' }),
  maxbatch: z.int().min(1).optional().meta({ description: 'Alerts per send for outputs that batch (Kafka, NATS).' }),
});

/** Filter keys every output block accepts beside its own keys. */
export const filterKeys = {
  minimumpriority: minimumPriority,
  rules: z.array(z.string()).default([]).meta({ description: 'Only these rule names ([] = all).' }),
  tags: z.array(z.string()).default([]).meta({ description: 'Only alerts carrying at least one of these tags ([] = all).' }),
  sources: z.array(z.string()).default([]).meta({ description: 'Only these sources, e.g. syscalls, k8s_audit ([] = all).' }),
  delivery: deliverySchema.prefault({}),
  // Falcosidekick's per-output keys, accepted so its configs load unchanged.
  maxconcurrentrequests: z.int().min(1).optional().meta({ description: 'Falcosidekick\'s name for delivery.maxconcurrentrequests.' }),
  mutualtls: z.boolean().default(false).meta({ description: 'Webhook, Slack and NATS: present a client certificate (mutualtlsclient.*, else the files in mutualtlsfilespath), as Falcosidekick does; the server\'s certificate is then always verified, against the system CAs and mutualtlsclient.cacertfile (checkcert is ignored). Other outputs refuse true.' }),
};

type AnyObject = z.ZodObject<z.ZodRawShape>;

/** An output type's full block: its own keys plus the shared filter and delivery keys. */
export function outputBlockSchema(def: OutputDefinition): AnyObject {
  const own = def.schema as unknown as AnyObject;
  return z.strictObject({ ...own.shape, ...filterKeys }) as unknown as AnyObject;
}

/** Parent keys become optional in a named instance's block (the parent's values fill them in). */
function optionalParentKeys(def: OutputDefinition): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(def.parentKeys ?? {})) out[k] = (v as z.ZodType).optional();
  return out;
}

function namedInstanceSchema(defs: readonly OutputDefinition[]) {
  return z.discriminatedUnion('type', defs.map((d) =>
    z.strictObject({
      name: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'use letters, digits, "-", "_" or "."').meta({ description: 'Instance name (metrics label, logs).' }),
      type: z.literal(d.type),
      ...outputBlockSchema(d).shape,
      ...optionalParentKeys(d),
    })) as unknown as [AnyObject, ...AnyObject[]]);
}

/** Nests a schema under a key path: ["aws","sns"] -> { aws: { sns: schema, ...parentKeys } }. */
function nestAt(path: readonly string[], schema: z.ZodType, parentKeys: z.ZodRawShape = {}): Record<string, z.ZodType> {
  let s: z.ZodType = schema.prefault({});
  for (let i = path.length - 1; i > 0; i--) {
    s = z.strictObject({ [path[i]!]: s, ...(i === path.length - 1 ? parentKeys : {}) }).prefault({});
  }
  return { [path[0]!]: s };
}

export function buildConfigSchema(defs: readonly OutputDefinition[] = outputRegistry) {
  const legacy: Record<string, z.ZodType> = {};
  for (const d of defs) {
    // Outputs that share a parent (aws.sns, aws.sqs …) are merged into one parent object.
    const nested = nestAt(d.configPath, outputBlockSchema(d), d.parentKeys);
    for (const [k, v] of Object.entries(nested)) {
      const prev = legacy[k];
      legacy[k] = prev ? mergeObjects(prev, v) : v;
    }
  }
  return z.strictObject({
    listenaddress: z.string().default('').meta({ description: 'Address the HTTP input listens on ("" = all).' }),
    listenport: z.int().min(0).max(65535).default(2801).meta({ description: 'Port of the HTTP input (Falcosidekick\'s 2801).' }),
    bodylimit: z.int().min(1).default(1048576).meta({ description: 'Largest accepted request body in bytes (larger: 413).' }),
    authtoken: z.string().default('').meta({ description: 'When set, POST /, /test and /k8s-audit need "Authorization: Bearer <token>" (scheme in any case).' }),
    authmetrics: z.boolean().default(false).meta({ description: 'With authtoken, GET /metrics needs the bearer token too (it shows rule names and hostnames).' }),
    tlsserver: z.strictObject({
      deploy: z.boolean().default(false).meta({ description: 'Serve HTTPS instead of HTTP.' }),
      certfile: z.string().default('/etc/certs/server/server.crt'),
      keyfile: z.string().default('/etc/certs/server/server.key'),
      mutualtls: z.boolean().default(false).meta({ description: 'Require client certificates signed by cacertfile (needs deploy).' }),
      cacertfile: z.string().default('/etc/certs/server/ca.crt').meta({ description: 'CA that signs client certificates when mutualtls is true.' }),
      notlsport: z.int().min(1).max(65535).default(2810).meta({ description: 'Port of the plain-HTTP server for notlspaths.' }),
      notlspaths: z.array(z.string()).default([]).meta({ description: 'Paths also served over plain HTTP on notlsport when deploy is true (e.g. /ping for probes).' }),
    }).prefault({}),
    mutualtlsfilespath: z.string().default('/etc/certs').meta({ description: 'Directory of client.crt, client.key and ca.crt for outputs with mutualtls: true, where mutualtlsclient leaves a file unset (Falcosidekick key).' }),
    mutualtlsclient: z.strictObject({
      certfile: z.string().default('').meta({ description: 'Client certificate (PEM) for outputs with mutualtls: true; default <mutualtlsfilespath>/client.crt.' }),
      keyfile: z.string().default('').meta({ description: 'Its private key (PEM); default <mutualtlsfilespath>/client.key.' }),
      cacertfile: z.string().default('').meta({ description: 'CA (PEM) the destinations\' certificates are checked against, besides the system ones; default <mutualtlsfilespath>/ca.crt.' }),
    }).prefault({}),
    tlsclient: z.strictObject({
      cacertfile: z.string().default('').meta({ description: 'PEM file of CAs every HTTP output (webhook, Slack) trusts besides the system ones and its own cacertfile, as Falcosidekick\'s tlsclient.cacertfile.' }),
    }).prefault({}),
    debug: z.boolean().default(false).meta({ description: 'Log every alert sent.' }),
    loglevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    customfields: z.record(z.string(), z.string()).default({}).meta({ description: 'Static fields added to every alert\'s output_fields.' }),
    customtags: z.array(z.string()).default([]).meta({ description: 'Tags added to every alert.' }),
    templatedfields: z.record(z.string(), z.string()).default({}).meta({ description: 'Fields computed from output_fields with Go-template syntax ({{ index . "k8s.ns.name" }}, or).' }),
    bracketreplacer: z.string().default('').meta({ description: 'Replaces "[" in output field names (proc.aname[2] -> proc.aname_2 with "_").' }),
    outputfieldformat: z.string().default('').meta({ description: 'Rewrites a Falco output line "HH:MM:SS.ns: Priority text" from <timestamp> <priority> <output> <custom_fields> <templated_fields> <tags>.' }),
    prometheus: z.strictObject({
      extralabels: z.string().default('').meta({ description: 'Comma-separated output fields added as labels of falco_events_total (dots become "_").' }),
    }).prefault({}),
    drainms: z.int().min(0).max(MAX_TIMER_MS).default(10000).meta({ description: 'On shutdown, how long to keep delivering spooled alerts (what is left stays in the spool for the next start).' }),
    warmup: z.boolean().default(true).meta({ description: '`peregrine route`: before the input opens, send 400 alerts through a private copy of the router (loopback only, its own spool and metrics; HTTP outputs aimed at its own receiver) so the first real alerts do not wait for V8 to compile the path. Nothing reaches the configured destinations, spool, metrics or UI store.' }),
    spool: spoolSchema.prefault({}).meta({ description: 'The durable on-disk log every accepted alert is written to before it is acknowledged.' }),
    detector: detectorSchema.prefault({}).meta({ description: 'The detection core (`peregrine run`): rules, stdout alerts, Kubernetes audit input, capture.' }),
    container: containerSchema.prefault({}).meta({ description: 'Container runtime metadata for container.* and k8s.* fields (`peregrine run`).' }),
    ...legacy,
    outputs: z.array(namedInstanceSchema(defs)).default([]).meta({ description: 'Named output instances, each with its own filter (beyond Falcosidekick).' }),
  });
}

function mergeObjects(a: z.ZodType, b: z.ZodType): z.ZodType {
  const unwrap = (s: z.ZodType): AnyObject => ((s as unknown as { def: { innerType?: z.ZodType } }).def.innerType ?? s) as unknown as AnyObject;
  const oa = unwrap(a);
  const ob = unwrap(b);
  const shape: Record<string, z.ZodType> = { ...(oa.shape as Record<string, z.ZodType>) };
  for (const [k, v] of Object.entries(ob.shape as Record<string, z.ZodType>)) shape[k] = shape[k] ? mergeObjects(shape[k], v as z.ZodType) : (v as z.ZodType);
  return z.strictObject(shape).prefault({});
}

export const configSchema = buildConfigSchema();
// Output blocks are assembled from the registry at run time, so they are typed loosely here.
export type PeregrineConfig = z.output<typeof configSchema> & { readonly [outputBlock: string]: unknown };
