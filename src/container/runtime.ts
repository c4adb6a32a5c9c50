/**
 * What every runtime client offers the cache: a lookup by container id, and optionally a stream of container
 * lifecycle events. A client throws RuntimeUnavailable when its socket cannot be reached, and answers undefined
 * when the runtime is up but does not know the container.
 */
import { existsSync } from 'node:fs';
import type { ContainerMetadata } from './metadata.ts';

/** A runtime's answer: the container's metadata, and when it started (container.start_ts), if the runtime says. */
export type RuntimeAnswer = ContainerMetadata & { startedNs?: bigint };

export type RuntimeName = 'containerd' | 'cri' | 'docker' | 'podman';

export interface LookupRequest {
  fullId: string;
  /** containerd namespace from the cgroup path, when it names one. */
  namespace?: string;
}

export interface RuntimeEvent {
  /** upsert: created or started (fetch it now); delete: gone (forget it). */
  kind: 'upsert' | 'delete';
  fullId: string;
  namespace?: string;
}

export interface RuntimeClient {
  /** Name in logs and metrics: containerd, cri (with its socket), docker, podman. */
  readonly name: string;
  readonly kind: RuntimeName;
  lookup(req: LookupRequest): Promise<RuntimeAnswer | undefined>;
  /**
   * Follows the runtime's event stream until close(), reconnecting by itself: onUp when a stream is established,
   * onError when one fails or cannot be opened.
   */
  watch?(onEvent: (e: RuntimeEvent) => void, onError: (err: Error) => void, onUp: () => void): void;
  close(): void;
}

export class RuntimeUnavailable extends Error {
  readonly runtime: string;

  constructor(runtime: string, message: string) {
    super(message);
    this.runtime = runtime;
    this.name = 'RuntimeUnavailable';
  }
}

/**
 * A configured socket path, or the first of the usual places that exists. Checked on each use, so a runtime that
 * starts after Peregrine is found without a restart.
 */
export class SocketPath {
  readonly runtime: string;
  private readonly configured: string;
  private readonly defaults: readonly string[];

  constructor(runtime: string, configured: string, defaults: readonly string[]) {
    this.runtime = runtime;
    this.configured = configured;
    this.defaults = defaults;
  }

  /** The path to dial; throws RuntimeUnavailable when there is none. */
  current(): string {
    const candidates = this.configured ? [this.configured] : this.defaults;
    const found = candidates.find((p) => existsSync(p));
    if (!found) throw new RuntimeUnavailable(this.runtime, `no ${this.runtime} socket at ${candidates.join(', ')}`);
    return found;
  }

  describe(): string {
    return this.configured || this.defaults.join(' | ');
  }
}

export const DEFAULT_SOCKETS = {
  containerd: ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock', '/var/run/containerd/containerd.sock'],
  crio: ['/run/crio/crio.sock', '/var/run/crio/crio.sock'],
  docker: ['/var/run/docker.sock', '/run/docker.sock'],
  podman: ['/run/podman/podman.sock', '/var/run/podman/podman.sock'],
} as const;
