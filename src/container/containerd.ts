/**
 * containerd's own API (not CRI): containers.Get in the container's namespace (or each namespace in turn), the
 * image's digest from images.Get, and the event stream for create/start/delete. Serves ctr, nerdctl, Docker's moby
 * namespace and Kubernetes' k8s.io namespace alike.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { grpcClient, GrpcStatus, isUnavailable, protoStringField, unary, type GrpcClient } from './grpc.ts';
import { defined, hostNamespacesFromSpec, imageFields, mountsFromSpec, privilegedFromSpec, SANDBOX_ID_LABEL, type ContainerMetadata, type OciSpec } from './metadata.ts';
import { shortContainerId } from './cgroup.ts';
import { RuntimeUnavailable, type LookupRequest, type RuntimeAnswer, type RuntimeClient, type RuntimeEvent, SocketPath } from './runtime.ts';

interface Any { type_url: string; value: Buffer }
interface Timestamp { seconds: string; nanos: number }
interface ContainerMsg {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime: { name: string } | null;
  spec: Any | null;
  created_at: Timestamp | null;
  sandbox: string;
}
interface Envelope { namespace: string; topic: string; event: Any | null }

const NS_HEADER = 'containerd-namespace';
const TOPICS: Record<string, RuntimeEvent['kind']> = { '/containers/create': 'upsert', '/tasks/start': 'upsert', '/containers/delete': 'delete' };

export class ContainerdClient implements RuntimeClient {
  readonly name = 'containerd';
  readonly kind = 'containerd' as const;
  /** Namespaces containerd reported last (the cgroup parser recognises /<namespace>/<id> for these). */
  readonly namespaces = new Set<string>(['default', 'k8s.io', 'moby']);
  private clients: { path: string; ns: GrpcClient; containers: GrpcClient; images: GrpcClient; events: GrpcClient } | undefined;
  private stream: ClientReadableStream<Envelope> | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  private readonly socket: SocketPath;
  private readonly timeoutMs: number;

  constructor(socket: SocketPath, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
  }

  private conn() {
    const path = this.socket.current();
    if (this.clients?.path !== path) {
      this.closeClients();
      this.clients = {
        path,
        ns: grpcClient('containerd.services.namespaces.v1.Namespaces', path),
        containers: grpcClient('containerd.services.containers.v1.Containers', path),
        images: grpcClient('containerd.services.images.v1.Images', path),
        events: grpcClient('containerd.services.events.v1.Events', path),
      };
    }
    return this.clients;
  }

  private call<T>(client: GrpcClient, method: string, req: object, ns?: string): Promise<T> {
    return unary<T>(client, method, req, this.timeoutMs, ns ? { [NS_HEADER]: ns } : undefined).catch((err: unknown) => {
      if (isUnavailable(err)) throw new RuntimeUnavailable(this.name, `containerd at ${this.clients?.path}: ${(err as Error).message}`);
      throw err;
    });
  }

  /** Refreshes the namespace list from containerd. */
  async listNamespaces(): Promise<string[]> {
    const c = this.conn();
    const res = await this.call<{ namespaces: { name: string }[] }>(c.ns, 'List', {});
    const names = res.namespaces.map((n) => n.name);
    for (const n of names) this.namespaces.add(n);
    return names;
  }

  async lookup(req: LookupRequest): Promise<RuntimeAnswer | undefined> {
    const c = this.conn();
    const order = req.namespace ? [req.namespace] : await this.listNamespaces();
    for (const ns of order) {
      let msg: ContainerMsg;
      try {
        msg = (await this.call<{ container: ContainerMsg }>(c.containers, 'Get', { id: req.fullId }, ns)).container;
      } catch (err) {
        if ((err as { code?: number }).code === GrpcStatus.NOT_FOUND) continue;
        throw err;
      }
      return this.toMetadata(msg, ns, c.images);
    }
    return undefined;
  }

  private async toMetadata(msg: ContainerMsg, ns: string, images: GrpcClient): Promise<RuntimeAnswer> {
    let spec: OciSpec = {};
    if (msg.spec?.value?.length) {
      try {
        spec = JSON.parse(msg.spec.value.toString('utf8')) as OciSpec;
      } catch {
        spec = {};
      }
    }
    let digest: string | undefined;
    let imageLabels: Record<string, string> = {};
    if (msg.image) {
      try {
        const img = (await this.call<{ image: { labels: Record<string, string>; target: { digest: string } | null } }>(images, 'Get', { name: msg.image }, ns)).image;
        digest = img.target?.digest || undefined;
        imageLabels = img.labels ?? {};
      } catch (err) {
        if (err instanceof RuntimeUnavailable) throw err;
        // The image may have been removed since the container was made: the container's own fields still count.
      }
    }
    // Image labels first, the container's own win (as containerd shows them with `ctr containers info`).
    const labels = { ...imageLabels, ...msg.labels };
    // Kubernetes names its containers in a label; other containerd clients only have the id (Falco shows that).
    const name = labels['io.kubernetes.container.name'] ?? labels['nerdctl/name'] ?? shortContainerId(msg.id);
    const sandboxId = msg.sandbox || spec.annotations?.['io.kubernetes.cri.sandbox-id'] || labels[SANDBOX_ID_LABEL];
    const meta: RuntimeAnswer = defined<ContainerMetadata>({
      id: shortContainerId(msg.id),
      fullId: msg.id,
      type: 'containerd',
      name,
      ...imageFields(msg.image, digest),
      labels,
      privileged: privilegedFromSpec(spec),
      mounts: mountsFromSpec(spec),
      ...hostNamespacesFromSpec(spec),
      podSandboxId: sandboxId,
    });
    // containerd's container record has its creation time (the task's start is in the tasks API).
    if (msg.created_at) meta.startedNs = BigInt(msg.created_at.seconds) * 1_000_000_000n + BigInt(msg.created_at.nanos);
    return meta;
  }

  watch(onEvent: (e: RuntimeEvent) => void, onError: (err: Error) => void, onUp: () => void): void {
    if (this.closed) return;
    let c;
    try {
      c = this.conn();
    } catch (err) {
      onError(err as Error);
      this.retryWatch(onEvent, onError, onUp);
      return;
    }
    const filters = Object.keys(TOPICS).map((t) => `topic=="${t}"`);
    const stream = (c.events as unknown as { Subscribe(req: object): ClientReadableStream<Envelope> }).Subscribe({ filters });
    this.stream = stream;
    // containerd sends nothing on a subscription until an event: a namespace listing says it is up.
    this.listNamespaces().then(() => onUp(), () => undefined);
    stream.on('data', (env: Envelope) => {
      const kind = TOPICS[env.topic];
      const id = env.event?.value ? protoStringField(env.event.value, 1) : undefined;
      if (kind && id) onEvent({ kind, fullId: id, namespace: env.namespace });
      if (env.namespace) this.namespaces.add(env.namespace);
    });
    stream.on('error', (err: Error) => {
      if (this.closed) return;
      onError(new RuntimeUnavailable(this.name, `containerd event stream at ${c.path}: ${err.message}`));
    });
    stream.on('end', () => this.retryWatch(onEvent, onError, onUp));
    stream.on('close', () => this.retryWatch(onEvent, onError, onUp));
  }

  private retryWatch(onEvent: (e: RuntimeEvent) => void, onError: (err: Error) => void, onUp: () => void): void {
    if (this.closed || this.retry) return;
    this.stream = undefined;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.watch(onEvent, onError, onUp);
    }, 2000);
    this.retry.unref();
  }

  private closeClients(): void {
    if (!this.clients) return;
    for (const cl of [this.clients.ns, this.clients.containers, this.clients.images, this.clients.events]) cl.close();
    this.clients = undefined;
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.stream?.cancel();
    this.closeClients();
  }
}
