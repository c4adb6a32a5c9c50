/**
 * Docker's Engine API over its unix socket (and podman's Docker-compatible API, the same calls on podman's socket):
 * GET /containers/<id>/json, the image's repo digest from /images/<id>/json, and /events for create/start/destroy.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { shortContainerId } from './cgroup.ts';
import { defined, imageFields, SANDBOX_ID_LABEL, shortImageId, type ContainerMetadata } from './metadata.ts';
import { RuntimeUnavailable, type LookupRequest, type RuntimeAnswer, type RuntimeClient, type RuntimeEvent, SocketPath } from './runtime.ts';

interface InspectMount { Source?: string; Destination?: string; Mode?: string; RW?: boolean; Propagation?: string }
interface Inspect {
  Id: string;
  Name?: string;
  Created?: string;
  State?: { StartedAt?: string };
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; User?: string };
  HostConfig?: { Privileged?: boolean; PidMode?: string; NetworkMode?: string; IpcMode?: string };
  Mounts?: InspectMount[];
  NetworkSettings?: { IPAddress?: string };
}

const EVENTS: Record<string, RuntimeEvent['kind']> = { create: 'upsert', start: 'upsert', rename: 'upsert', destroy: 'delete' };

/** The sub-millisecond digits of an RFC 3339 time ("…T10:00:00.123456789Z" -> 456789). */
function nanosOf(t: string): number {
  const m = /\.(\d+)/.exec(t);
  return m ? Number((m[1]! + '000000000').slice(3, 9)) : 0;
}

export class DockerClient implements RuntimeClient {
  readonly name: string;
  private agent: { path: string; dispatcher: Agent } | undefined;
  private closed = false;
  private events: Dispatcher.ResponseData | undefined;
  private retry: NodeJS.Timeout | undefined;

  readonly kind: 'docker' | 'podman';
  private readonly socket: SocketPath;
  private readonly timeoutMs: number;

  constructor(kind: 'docker' | 'podman', socket: SocketPath, timeoutMs: number) {
    this.kind = kind;
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.name = kind;
  }

  private conn() {
    const path = this.socket.current();
    if (this.agent?.path !== path) {
      void this.agent?.dispatcher.close();
      this.agent = { path, dispatcher: new Agent({ connect: { socketPath: path }, keepAliveTimeout: 10_000 }) };
    }
    return this.agent;
  }

  private async get<T>(path: string): Promise<T | undefined> {
    const c = this.conn();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`http://localhost${path}`, { dispatcher: c.dispatcher, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    } catch (err) {
      throw new RuntimeUnavailable(this.name, `${this.kind} at ${c.path}: ${(err as Error).message}`);
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new Error(`${this.kind} GET ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
    return (await res.body.json()) as T;
  }

  async lookup(req: LookupRequest): Promise<RuntimeAnswer | undefined> {
    const c = await this.get<Inspect>(`/containers/${encodeURIComponent(req.fullId)}/json`);
    if (!c) return undefined;
    let digest: string | undefined;
    if (c.Image) {
      const img = await this.get<{ RepoDigests?: string[] }>(`/images/${encodeURIComponent(c.Image)}/json`).catch((err: unknown) => {
        if (err instanceof RuntimeUnavailable) throw err;
        return undefined;
      });
      const rd = img?.RepoDigests?.[0];
      if (rd && rd.includes('@')) digest = rd.slice(rd.indexOf('@') + 1);
    }
    const labels = c.Config?.Labels ?? {};
    const hc = c.HostConfig ?? {};
    // Docker names start with "/"; an image given by id shows as that id.
    const image = c.Config?.Image && !c.Config.Image.startsWith('sha256:') ? c.Config.Image : undefined;
    const meta: RuntimeAnswer = defined<ContainerMetadata>({
      id: shortContainerId(c.Id),
      fullId: c.Id,
      type: this.kind,
      name: c.Name?.replace(/^\//, ''),
      ...imageFields(image, digest),
      imageId: shortImageId(c.Image),
      labels,
      privileged: hc.Privileged === true,
      mounts: (c.Mounts ?? []).map((m) => ({
        source: m.Source ?? '', dest: m.Destination ?? '', mode: m.Mode ?? '', rdwr: m.RW !== false, propagation: m.Propagation ?? '',
      })),
      hostPid: hc.PidMode === 'host',
      hostNetwork: hc.NetworkMode === 'host',
      hostIpc: hc.IpcMode === 'host',
      ip: c.NetworkSettings?.IPAddress || undefined,
      // cri-dockerd (Kubernetes on Docker) labels the pod's containers with their sandbox.
      podSandboxId: labels[SANDBOX_ID_LABEL],
    });
    const started = c.State?.StartedAt ? Date.parse(c.State.StartedAt) : NaN;
    // A created, never started container says 0001-01-01.
    if (started > 0) meta.startedNs = BigInt(started) * 1_000_000n + BigInt(nanosOf(c.State!.StartedAt!));
    return meta;
  }

  watch(onEvent: (e: RuntimeEvent) => void, onError: (err: Error) => void, onUp: () => void): void {
    if (this.closed) return;
    void this.follow(onEvent, onUp).catch((err: unknown) => {
      if (this.closed) return;
      onError(err instanceof RuntimeUnavailable ? err : new RuntimeUnavailable(this.name, `${this.kind} events: ${(err as Error).message}`));
    }).finally(() => {
      if (this.closed || this.retry) return;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.watch(onEvent, onError, onUp);
      }, 2000);
      this.retry.unref();
    });
  }

  /** One /events connection, until it ends: JSON objects, one per line. */
  private async follow(onEvent: (e: RuntimeEvent) => void, onUp: () => void): Promise<void> {
    const c = this.conn();
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`http://localhost/events?filters=${filters}`, { dispatcher: c.dispatcher, bodyTimeout: 0, headersTimeout: this.timeoutMs });
    } catch (err) {
      throw new RuntimeUnavailable(this.name, `${this.kind} at ${c.path}: ${(err as Error).message}`);
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`GET /events: HTTP ${res.statusCode}`);
    }
    this.events = res;
    onUp();
    let buf = '';
    for await (const chunk of res.body) {
      buf += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { Action?: string; status?: string; Actor?: { ID?: string }; id?: string };
          const kind = EVENTS[ev.Action ?? ev.status ?? ''];
          const id = ev.Actor?.ID ?? ev.id;
          if (kind && id) onEvent({ kind, fullId: id });
        } catch {
          // a line that is not JSON: skip it, the next one starts clean
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.events?.body.destroy();
    void this.agent?.dispatcher.close().catch(() => undefined);
    this.agent = undefined;
  }
}
