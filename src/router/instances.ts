import type { PeregrineConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { AlertFilter } from './filter.ts';
import { OutputQueue, type QueueSettings } from './delivery/output-queue.ts';
import type { RouterMetrics } from './metrics.ts';
import type { DeliveryTuning, OutputDefinition } from './output.ts';

/** One configured destination: its filter and its delivery queue. */
export interface OutputInstance {
  name: string;
  type: string;
  filter: AlertFilter;
  queue: OutputQueue;
}

interface Block extends AlertFilter {
  maxconcurrentrequests?: number;
  delivery: { queuesize: number; maxretries: number; initialbackoffms: number; maxbackoffms: number;
    timeoutms?: number; ratepersecond?: number; maxconcurrentrequests?: number; maxbatch?: number };
  [key: string]: unknown;
}

const TUNING_DEFAULTS: DeliveryTuning = { maxBatch: 1, concurrency: 1, ratePerSecond: 0, timeoutMs: 10000 };

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

/** Builds the instances; an output that fails to start is logged and left out, the others run. */
export async function createInstances(config: PeregrineConfig, registry: readonly OutputDefinition[],
  metrics: RouterMetrics, log: Logger): Promise<{ instances: OutputInstance[]; failed: { name: string; error: string }[] }> {
  const instances: OutputInstance[] = [];
  const failed: { name: string; error: string }[] = [];
  const seen = new Set<string>();
  for (const { name, def, block } of enabledBlocks(config, registry)) {
    if (seen.has(name)) {
      failed.push({ name, error: `output name "${name}" is used twice` });
      continue;
    }
    seen.add(name);
    const ilog = log.child({ output: name, type: def.type });
    try {
      const sender = await def.create(block, { name, log: ilog });
      const t = { ...TUNING_DEFAULTS, ...def.delivery };
      const d = block.delivery;
      const settings: QueueSettings = {
        maxBatch: d.maxbatch ?? t.maxBatch,
        concurrency: d.maxconcurrentrequests ?? block.maxconcurrentrequests ?? t.concurrency,
        ratePerSecond: d.ratepersecond ?? t.ratePerSecond,
        timeoutMs: d.timeoutms ?? t.timeoutMs,
        queueSize: d.queuesize,
        maxRetries: d.maxretries,
        initialBackoffMs: d.initialbackoffms,
        maxBackoffMs: d.maxbackoffms,
      };
      instances.push({
        name, type: def.type,
        filter: { minimumpriority: block.minimumpriority, rules: block.rules, tags: block.tags, sources: block.sources },
        queue: new OutputQueue(name, def.type, sender, settings, metrics, ilog),
      });
      ilog.info({ filter: { minimumpriority: block.minimumpriority ?? 'any', rules: block.rules, tags: block.tags, sources: block.sources } }, 'output enabled');
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      failed.push({ name, error });
      ilog.error({ err: error }, 'output could not start; it is disabled, the other outputs run');
    }
  }
  return { instances, failed };
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
