/**
 * The container metadata cache: one ContainerInfo per container id, shared by every process of that container.
 * The capture side hands in the container it found in a cgroup (intern: a map lookup, never waits); the first sight
 * queues a lookup in the background, and when the runtime answers, the shared object's `metadata` is set, so every
 * later event of the container reads the values (the field table reads ContainerInfo.metadata). Runtime event
 * streams pre-fill containers as they are created and refresh them.
 */
import type { ContainerInfo } from '../engine/event.ts';
import { shortContainerId, type CgroupContainer, type RuntimeHint } from './cgroup.ts';
import { RuntimeUnavailable, type RuntimeAnswer, type RuntimeClient, type RuntimeEvent, type RuntimeName } from './runtime.ts';

export interface CacheLog {
  info(o: object | string, m?: string): void;
  warn(o: object | string, m?: string): void;
  debug?(o: object | string, m?: string): void;
}

export interface CacheMetrics {
  /** Seconds from first sight of a container to its metadata. */
  fillSeconds(runtime: string, seconds: number): void;
  lookup(runtime: string, result: 'found' | 'not_found' | 'unavailable' | 'error'): void;
}

export interface CacheOptions {
  clients: readonly RuntimeClient[];
  log: CacheLog;
  metrics?: CacheMetrics;
  /** Entries kept; the oldest are forgotten beyond this (their objects live on in the processes that hold them). */
  maxEntries?: number;
  /** Lookups in flight at once. */
  concurrency?: number;
  /** A container no runtime knew is asked once more after this long (it may not have been registered yet). */
  retryMs?: number;
}

interface Entry {
  info: ContainerInfo;
  hint: RuntimeHint;
  /** containerd namespace from the cgroup path or the event, when known. */
  namespace: string | undefined;
  firstSeen: number;
  filled: boolean;
  queued: boolean;
  running: boolean;
  /** A refresh was asked for while a lookup was running. */
  again: boolean;
  retried: boolean;
}

/** Which runtimes to ask, in order, for a container whose cgroup layout points at `hint`. */
function order(hint: RuntimeHint, namespace: string | undefined): RuntimeName[] {
  switch (hint) {
    case 'docker': return namespace === 'moby' ? ['docker', 'containerd'] : ['docker', 'containerd', 'podman', 'cri'];
    case 'containerd': return namespace && namespace !== 'k8s.io' ? ['containerd'] : ['cri', 'containerd'];
    case 'cri-o': return ['cri'];
    case 'podman': return ['podman', 'docker'];
    case 'cri': return ['cri', 'docker', 'containerd'];
  }
}

export class ContainerMetadataCache {
  private readonly entries = new Map<string, Entry>();
  /** Short (12-character) ids to full ids, for lookups by container.id (the field table's provider interface). */
  private readonly shortIds = new Map<string, string>();
  private readonly queue: Entry[] = [];
  private running = 0;
  private readonly down = new Set<string>();
  private closed = false;
  private readonly maxEntries: number;
  private readonly concurrency: number;
  private readonly retryMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly opts: CacheOptions;

  constructor(opts: CacheOptions) {
    this.opts = opts;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.concurrency = opts.concurrency ?? 4;
    this.retryMs = opts.retryMs ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The shared ContainerInfo for a container the capture side just derived from a cgroup. Returns at once; the
   * metadata arrives later in the same object.
   */
  intern(c: CgroupContainer): ContainerInfo {
    const e = this.entries.get(c.fullId);
    if (e) return e.info;
    return this.add(c).info;
  }

  /** The shared ContainerInfo of a container id (full, or the 12-character short one), if known. */
  peek(id: string): ContainerInfo | undefined {
    return this.entries.get(id)?.info ?? this.entries.get(this.shortIds.get(id) ?? '')?.info;
  }

  private add(c: CgroupContainer): Entry {
    const info: ContainerInfo = { id: shortContainerId(c.fullId), fullId: c.fullId, type: c.runtime };
    const e: Entry = {
      info, hint: c.runtime, namespace: c.namespace, firstSeen: performance.now(),
      filled: false, queued: false, running: false, again: false, retried: false,
    };
    this.entries.set(c.fullId, e);
    this.shortIds.set(info.id, c.fullId);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    this.enqueue(e);
    return e;
  }

  private forget(fullId: string): void {
    const e = this.entries.get(fullId);
    if (!e) return;
    this.entries.delete(fullId);
    if (this.shortIds.get(e.info.id) === fullId) this.shortIds.delete(e.info.id);
  }

  /** A runtime event: pre-fill a new container, refresh a known one, forget a deleted one. */
  onRuntimeEvent(ev: RuntimeEvent, from: RuntimeClient): void {
    if (ev.kind === 'delete') {
      this.forget(ev.fullId);
      return;
    }
    const e = this.entries.get(ev.fullId);
    if (e) {
      this.enqueue(e);
      return;
    }
    const runtime: RuntimeHint = from.kind === 'cri' ? 'cri' : from.kind === 'containerd' && ev.namespace === 'moby' ? 'docker' : from.kind;
    this.add(ev.namespace ? { fullId: ev.fullId, runtime, namespace: ev.namespace } : { fullId: ev.fullId, runtime });
  }

  private enqueue(e: Entry): void {
    if (this.closed) return;
    if (e.running) {
      e.again = true;
      return;
    }
    if (e.queued) return;
    e.queued = true;
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0 && !this.closed) {
      const e = this.queue.shift()!;
      e.queued = false;
      e.running = true;
      this.running++;
      void this.resolve(e).finally(() => {
        e.running = false;
        this.running--;
        if (e.again) {
          e.again = false;
          this.enqueue(e);
        }
        this.pump();
      });
    }
  }

  private async resolve(e: Entry): Promise<void> {
    const kinds = order(e.hint, e.namespace);
    const clients = kinds.flatMap((k) => this.opts.clients.filter((c) => c.kind === k));
    for (const client of clients) {
      let meta: RuntimeAnswer | undefined;
      try {
        const fullId = e.info.fullId ?? e.info.id;
        meta = await client.lookup(e.namespace ? { fullId, namespace: e.namespace } : { fullId });
      } catch (err) {
        if (err instanceof RuntimeUnavailable) {
          this.opts.metrics?.lookup(client.name, 'unavailable');
          this.markDown(client.name, err);
        } else {
          this.opts.metrics?.lookup(client.name, 'error');
          this.opts.log.warn({ runtime: client.name, container: e.info.id, err: (err as Error).message }, 'container metadata lookup failed');
        }
        continue;
      }
      this.markUp(client.name);
      if (!meta) {
        this.opts.metrics?.lookup(client.name, 'not_found');
        continue;
      }
      this.opts.metrics?.lookup(client.name, 'found');
      if (this.closed) return;
      // One new object per answer: events already handed out keep what they were evaluated with.
      const { startedNs, ...metadata } = meta;
      e.info.metadata = metadata;
      if (startedNs !== undefined && e.info.startTs === undefined) e.info.startTs = startedNs;
      if (!e.filled) {
        e.filled = true;
        this.opts.metrics?.fillSeconds(client.name, (performance.now() - e.firstSeen) / 1000);
      }
      return;
    }
    if (!e.filled && !e.retried && !this.closed) {
      // Not registered anywhere yet (or every runtime is down): one more try, then only runtime events fill it.
      e.retried = true;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.entries.get(e.info.fullId ?? e.info.id) === e) this.enqueue(e);
      }, this.retryMs);
      t.unref();
      this.timers.add(t);
    }
  }

  /** One log line when a runtime stops answering, one when it is back. */
  markDown(runtime: string, err: Error): void {
    if (this.down.has(runtime)) return;
    this.down.add(runtime);
    this.opts.log.warn({ runtime, err: err.message }, 'container runtime is not reachable; container fields it would fill read <NA> until it is');
  }

  markUp(runtime: string): void {
    if (!this.down.delete(runtime)) return;
    this.opts.log.info({ runtime }, 'container runtime is reachable again');
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
  }
}
