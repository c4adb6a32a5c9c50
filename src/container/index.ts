/**
 * Container runtime metadata (issue #15), the module's one contract: start it from the `container` config section,
 * hand it to the capture core (every container found in a cgroup is interned here), close it on shutdown. Fields
 * such as container.image or k8s.pod.name read the shared ContainerInfo's metadata, so they show the runtime's values
 * as soon as a background lookup (or a runtime event) has filled it, and <NA> before.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ContainerConfig } from '../config/container-schema.ts';
import type { ContainerInfo } from '../engine/event.ts';
import { setContainerMetadataProvider } from '../engine/fields/container.ts';
import type { CgroupContainer } from './cgroup.ts';
import { ContainerMetadataCache, type CacheLog, type CacheMetrics } from './cache.ts';
import { ContainerdClient } from './containerd.ts';
import { CriClient } from './cri.ts';
import { DockerClient } from './docker.ts';
import { DEFAULT_SOCKETS, type RuntimeClient, SocketPath } from './runtime.ts';

export interface ContainerMetadataService {
  /** containerd namespaces known so far (the cgroup parser recognises /<namespace>/<id> for these). */
  readonly namespaces: ReadonlySet<string>;
  /** The shared ContainerInfo for a container found in a cgroup; never waits. */
  intern(c: CgroupContainer): ContainerInfo;
  readonly cache: ContainerMetadataCache;
  close(): void;
}

/** The provider the field table asks now (the last service started; one per process in practice). */
let registered: object | undefined;

export function startContainerMetadata(cfg: ContainerConfig, deps: { log: CacheLog; registry?: Registry }): ContainerMetadataService {
  const clients: RuntimeClient[] = [];
  const timeout = cfg.timeoutms;
  let containerd: ContainerdClient | undefined;
  if (cfg.containerd.enabled) {
    containerd = new ContainerdClient(new SocketPath('containerd', cfg.containerd.socket, DEFAULT_SOCKETS.containerd), timeout);
    clients.push(containerd);
  }
  if (cfg.cri.enabled) {
    if (cfg.cri.sockets.length) for (const s of cfg.cri.sockets) clients.push(new CriClient(new SocketPath('CRI', s, []), timeout));
    else {
      clients.push(new CriClient(new SocketPath('CRI', cfg.containerd.socket, DEFAULT_SOCKETS.containerd), timeout, cfg.containerd.socket ? undefined : 'cri:containerd'));
      clients.push(new CriClient(new SocketPath('CRI', '', DEFAULT_SOCKETS.crio), timeout, 'cri:cri-o'));
    }
  }
  if (cfg.docker.enabled) clients.push(new DockerClient('docker', new SocketPath('docker', cfg.docker.socket, DEFAULT_SOCKETS.docker), timeout));
  if (cfg.podman.enabled) clients.push(new DockerClient('podman', new SocketPath('podman', cfg.podman.socket, DEFAULT_SOCKETS.podman), timeout));

  const metrics = deps.registry ? registerMetrics(deps.registry, () => cache.size) : undefined;
  const cache = new ContainerMetadataCache({ clients, log: deps.log, ...(metrics ? { metrics } : {}), maxEntries: cfg.maxentries });

  // Event streams pre-fill containers as they are created; a runtime that is absent is retried in the background.
  for (const c of clients) {
    c.watch?.((ev) => cache.onRuntimeEvent(ev, c), (err) => cache.markDown(c.name, err), () => cache.markUp(c.name));
  }
  // Namespaces other than default/k8s.io/moby: learnt at start (and from events), for the /<namespace>/<id> layout.
  void containerd?.listNamespaces().catch(() => undefined);
  // The field table reads ContainerInfo.metadata; lookups by id (a pod's sandbox) come here.
  const provider = { containerInfo: (id: string) => cache.peek(id)?.metadata };
  setContainerMetadataProvider(provider);
  registered = provider;

  return {
    namespaces: containerd?.namespaces ?? new Set(['default', 'k8s.io', 'moby']),
    intern: (c) => cache.intern(c),
    cache,
    close() {
      if (registered === provider) {
        setContainerMetadataProvider(undefined);
        registered = undefined;
      }
      cache.close();
      for (const c of clients) c.close();
    },
  };
}

function registerMetrics(registry: Registry, size: () => number): CacheMetrics {
  const fill = new Histogram({
    name: 'peregrine_container_metadata_fill_seconds', help: 'Time from the first sight of a container to its runtime metadata, by runtime.',
    labelNames: ['runtime'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const lookups = new Counter({
    name: 'peregrine_container_metadata_lookups_total', help: 'Container metadata lookups by runtime and result (found, not_found, unavailable, error).',
    labelNames: ['runtime', 'result'], registers: [registry],
  });
  new Gauge({
    name: 'peregrine_container_metadata_cache_entries', help: 'Containers in the metadata cache.', registers: [registry],
    collect() { this.set(size()); },
  });
  return {
    fillSeconds: (runtime, s) => fill.observe({ runtime }, s),
    lookup: (runtime, result) => lookups.inc({ runtime, result }),
  };
}
