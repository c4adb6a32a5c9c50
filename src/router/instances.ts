import type { PeregrineConfig } from '../config/schema.ts';
import { PeregrineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Spool } from '../spool/contract.ts';
import type { AlertFilter } from './filter.ts';
import { AdaptiveConcurrency } from './delivery/adaptive-concurrency.ts';
import { OutputQueue, type DeadLetter, type QueueSettings } from './delivery/output-queue.ts';
import type { ThrottledLog } from '../throttled-log.ts';
import type { RouterMetrics } from './metrics.ts';
import { loadClientCertificate } from './mutual-tls.ts';
import type { DeliveryTuning, OutputDefinition, Sender } from './output.ts';

/** One configured destination: its filter and its delivery from the spool. */
export interface OutputInstance {
  name: string;
  type: string;
  filter: AlertFilter;
  queue: OutputQueue;
}

/** A destination whose sender started, before its delivery is attached to the spool. */
export interface PreparedOutput {
  name: string;
  type: string;
  filter: AlertFilter;
  sender: Sender;
  settings: QueueSettings;
  adaptive: boolean;
  log: Logger;
}

interface Block extends AlertFilter {
  maxconcurrentrequests?: number;
  mutualtls: boolean;
  delivery: { queuesize: number; maxretries: number; initialbackoffms: number; maxbackoffms: number;
    timeoutms?: number; ratepersecond?: number; maxconcurrentrequests?: number; maxbatch?: number };
  [key: string]: unknown;
}

const TUNING_DEFAULTS: DeliveryTuning = { maxBatch: 1, batchWaitMs: 0, concurrency: 1, adaptive: false, ratePerSecond: 0, timeoutMs: 10000 };
/** Upper bound of adaptive concurrency when maxconcurrentrequests is not set. */
export const ADAPTIVE_DEFAULT_MAX = 64;

/** The (legacy-block or named) output blocks the config enables, with their definitions. */
export function enabledBlocks(config: PeregrineConfig, registry: readonly OutputDefinition[]):
  { name: string; def: OutputDefinition; block: Block }[] {
  const found: { name: string; def: OutputDefinition; block: Block }[] = [];
  for (const def of registry) {
    const block = getPath(config, def.configPath) as Block | undefined;
    if (block && def.isEnabled(block)) found.push({ name: def.type, def, block: withInherited(config, def, block) });
  }
  for (const named of (config.outputs ?? []) as unknown as (Block & { name: string; type: string })[]) {
    const def = registry.find((d) => d.type === named.type)!;
    found.push({ name: named.name, def, block: withInherited(config, def, named) });
  }
  return found;
}

/** Starts the senders; one that cannot start (its config is wrong) stops the start with PRG_CONFIG naming it. */
export async function createInstances(config: PeregrineConfig, registry: readonly OutputDefinition[], log: Logger):
  Promise<{ prepared: PreparedOutput[] }> {
  const prepared: PreparedOutput[] = [];
  const seen = new Set<string>();
  for (const { name, def, block } of enabledBlocks(config, registry)) {
    if (seen.has(name)) {
      await Promise.all(prepared.map((p) => p.sender.close?.().catch(() => {})));
      throw new PeregrineError('PRG_CONFIG', `outputs: the name "${name}" is used twice`);
    }
    seen.add(name);
    const ilog = log.child({ output: name, type: def.type });
    try {
      if (block.mutualtls && !def.mutualTls) throw new Error(`mutualtls: the ${def.type} output cannot present a client certificate (webhook, Slack and NATS can); set mutualtls: false`);
      const clientCert = block.mutualtls ? loadClientCertificate(config) : undefined;
      const sender = await def.create(block, { name, log: ilog, clientCaFile: config.tlsclient.cacertfile, ...(clientCert ? { clientCert } : {}) });
      const t = { ...TUNING_DEFAULTS, ...def.delivery };
      const d = block.delivery;
      const cap = d.maxconcurrentrequests ?? block.maxconcurrentrequests;
      const settings: QueueSettings = {
        maxBatch: d.maxbatch ?? t.maxBatch,
        batchWaitMs: t.batchWaitMs,
        concurrency: cap ?? (t.adaptive ? ADAPTIVE_DEFAULT_MAX : t.concurrency),
        adaptive: t.adaptive,
        ratePerSecond: d.ratepersecond ?? t.ratePerSecond,
        timeoutMs: d.timeoutms ?? t.timeoutMs,
        window: d.queuesize,
        maxRetries: d.maxretries,
        initialBackoffMs: d.initialbackoffms,
        maxBackoffMs: d.maxbackoffms,
      };
      const filter = { minimumpriority: block.minimumpriority, rules: block.rules, tags: block.tags, sources: block.sources };
      prepared.push({ name, type: def.type, filter, sender, settings, adaptive: t.adaptive, log: ilog });
      ilog.info({ filter: { minimumpriority: block.minimumpriority ?? 'any', rules: block.rules, tags: block.tags, sources: block.sources },
        concurrency: t.adaptive ? `adaptive, at most ${settings.concurrency}` : settings.concurrency }, 'output enabled');
    } catch (err) {
      // Senders connect lazily (an unreachable server is retried by delivery), so what fails here is the
      // config: starting anyway would answer 200 and deliver nothing.
      await Promise.all(prepared.map((p) => p.sender.close?.().catch(() => {}))); // nothing left running
      throw new PeregrineError('PRG_CONFIG', `output "${name}" (${def.type}) cannot start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { prepared };
}

/** Attaches each output to its own cursor in the spool. */
export function startDelivery(prepared: readonly PreparedOutput[], spool: Spool,
  deps: { metrics: RouterMetrics; notices: ThrottledLog; deadLetter(d: DeadLetter): Promise<void> }): OutputInstance[] {
  return prepared.map((p) => {
    const slots = new AdaptiveConcurrency(p.adaptive
      ? { max: p.settings.concurrency }
      : { max: p.settings.concurrency, min: p.settings.concurrency });
    const queue = new OutputQueue(p.name, p.type, p.sender, p.settings, {
      reader: spool.reader(p.name),
      filter: p.filter, slots, deadLetter: deps.deadLetter, metrics: deps.metrics, log: p.log, notices: deps.notices,
    });
    return { name: p.name, type: p.type, filter: p.filter, queue };
  });
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), obj);
}

/** Adds the keys an output shares with its siblings (aws.region for aws.sns). */
function withInherited(config: PeregrineConfig, def: OutputDefinition, block: Block): Block {
  const keys = Object.keys(def.parentKeys ?? {});
  if (keys.length === 0) return block;
  const parent = getPath(config, def.configPath.slice(0, -1)) as Record<string, unknown> | undefined;
  const extra: Record<string, unknown> = {};
  for (const k of keys) if (parent && parent[k] !== undefined && block[k] === undefined) extra[k] = parent[k];
  return { ...block, ...extra };
}
