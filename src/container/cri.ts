/**
 * Kubernetes' CRI (runtime.v1 RuntimeService) on one socket: containerd's CRI plugin or CRI-O. ListContainers by id,
 * ContainerStatus (verbose: the runtime's own JSON, where "privileged" is explicit) and PodSandboxStatus for the
 * pod's name, namespace, uid, labels and annotations. A pod sandbox (pause) container answers through
 * PodSandboxStatus alone.
 */
import { grpcClient, GrpcStatus, isUnavailable, unary, type GrpcClient } from './grpc.ts';
import { shortContainerId } from './cgroup.ts';
import {
  defined, hostNamespacesFromSpec, imageFields, mountsFromSpec, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, privilegedFromSpec,
  SANDBOX_ID_LABEL, shortImageId, type ContainerMetadata, type OciSpec,
} from './metadata.ts';
import { RuntimeUnavailable, type LookupRequest, type RuntimeAnswer, type RuntimeClient, SocketPath } from './runtime.ts';
import type { ContainerMount } from '../engine/event.ts';

interface CriContainer { id: string; pod_sandbox_id: string }
interface CriMount { container_path: string; host_path: string; readonly: boolean; propagation: string }
interface CriStatus {
  id: string;
  metadata: { name: string } | null;
  created_at: string;
  started_at: string;
  image: { image: string } | null;
  image_ref: string;
  image_id: string;
  labels: Record<string, string>;
  mounts: CriMount[];
  user: { linux: { uid: string } | null } | null;
}
interface SandboxStatus {
  id: string;
  metadata: { name: string; uid: string; namespace: string } | null;
  created_at: string;
  network: { ip: string } | null;
  linux: { namespaces: { options: { network: string; pid: string; ipc: string } | null } | null } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
/** The members of the verbose "info" JSON read here (containerd's and CRI-O's shapes). */
interface VerboseInfo {
  privileged?: boolean;
  sandboxID?: string;
  config?: { linux?: { security_context?: { privileged?: boolean } } };
  runtimeSpec?: OciSpec;
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'private', PROPAGATION_HOST_TO_CONTAINER: 'rslave', PROPAGATION_BIDIRECTIONAL: 'rshared',
};

export class CriClient implements RuntimeClient {
  readonly kind = 'cri' as const;
  readonly name: string;
  private client: { path: string; rt: GrpcClient } | undefined;
  /** container.type: the runtime's own name from Version (containerd, cri-o). */
  private runtimeType: string | undefined;

  private readonly socket: SocketPath;
  private readonly timeoutMs: number;

  /** `name` labels logs and metrics: cri:<socket path>, or cri:containerd / cri:cri-o for the probed defaults. */
  constructor(socket: SocketPath, timeoutMs: number, name = `cri:${socket.describe()}`) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.name = name;
  }

  private conn() {
    const path = this.socket.current();
    if (this.client?.path !== path) {
      this.client?.rt.close();
      this.client = { path, rt: grpcClient('runtime.v1.RuntimeService', path) };
      this.runtimeType = undefined;
    }
    return this.client;
  }

  private call<T>(method: string, req: object): Promise<T> {
    const c = this.conn();
    return unary<T>(c.rt, method, req, this.timeoutMs).catch((err: unknown) => {
      if (isUnavailable(err)) throw new RuntimeUnavailable(this.name, `CRI at ${c.path}: ${(err as Error).message}`);
      // A socket that speaks gRPC but not the CRI (containerd with its CRI plugin disabled) has no such service.
      if ((err as { code?: number }).code === GrpcStatus.UNIMPLEMENTED) throw new RuntimeUnavailable(this.name, `no CRI service at ${c.path}`);
      throw err;
    });
  }

  private async type(): Promise<string> {
    if (!this.runtimeType) {
      const v = await this.call<{ runtime_name: string }>('Version', { version: 'v1' });
      this.runtimeType = v.runtime_name === 'containerd' || v.runtime_name === 'cri-o' ? v.runtime_name : 'cri';
    }
    return this.runtimeType;
  }

  async lookup(req: LookupRequest): Promise<RuntimeAnswer | undefined> {
    const type = await this.type();
    const list = await this.call<{ containers: CriContainer[] }>('ListContainers', { filter: { id: req.fullId } });
    const found = list.containers[0];
    if (!found) return this.sandboxLookup(req.fullId, type);
    let status: { status: CriStatus | null; info: Record<string, string> };
    try {
      status = await this.call('ContainerStatus', { container_id: found.id, verbose: true });
    } catch (err) {
      if ((err as { code?: number }).code === GrpcStatus.NOT_FOUND) return undefined;
      throw err;
    }
    const st = status.status;
    if (!st) return undefined;
    const info = parseInfo(status.info['info']);
    const sandbox = await this.sandbox(found.pod_sandbox_id);
    const spec = info.runtimeSpec ?? {};
    // The CRI states privileged explicitly (config.linux.security_context); older runtimes put it at the top.
    const privileged = info.config?.linux?.security_context?.privileged ?? info.privileged ?? privilegedFromSpec(spec);
    let image = st.image?.image ?? '';
    let digest: string | undefined;
    const at = st.image_ref.indexOf('@sha256:');
    if (st.image_ref.startsWith('sha256:')) digest = st.image_ref;
    else if (at > 0) digest = st.image_ref.slice(at + 1);
    if (!image || image.startsWith('sha256:')) {
      image = spec.annotations?.['io.kubernetes.cri.image-name'] ?? spec.annotations?.['io.kubernetes.cri-o.ImageName'] ?? image;
    }
    const mounts: ContainerMount[] = st.mounts.map((m) => ({
      source: m.host_path, dest: m.container_path, mode: '', rdwr: !m.readonly, propagation: PROPAGATION[m.propagation] ?? 'unknown',
    }));
    const meta: ContainerMetadata = defined<ContainerMetadata>({
      id: shortContainerId(st.id),
      fullId: st.id,
      type,
      name: st.metadata?.name,
      ...imageFields(image, digest),
      imageId: shortImageId(st.image_id || st.image_ref),
      labels: { ...st.labels },
      privileged,
      mounts: mounts.length ? mounts : mountsFromSpec(spec),
      ...hostNamespacesFromSpec(spec),
    });
    if (sandbox) withSandbox(meta, sandbox);
    const answer: RuntimeAnswer = meta;
    if (st.started_at && st.started_at !== '0') answer.startedNs = BigInt(st.started_at);
    return answer;
  }

  private async sandbox(id: string): Promise<(SandboxStatus & { cniResult?: string }) | undefined> {
    if (!id) return undefined;
    try {
      const res = await this.call<{ status: SandboxStatus | null; info: Record<string, string> }>('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
      if (!res.status) return undefined;
      const cni = cniResultOf(res.info['info']);
      return cni ? { ...res.status, cniResult: cni } : res.status;
    } catch (err) {
      if ((err as { code?: number }).code === GrpcStatus.NOT_FOUND) return undefined;
      throw err;
    }
  }

  /** The pod sandbox's own (pause) container: its id is the sandbox id. */
  private async sandboxLookup(id: string, type: string): Promise<ContainerMetadata | undefined> {
    const sb = await this.sandbox(id);
    if (!sb) return undefined;
    const meta = defined<ContainerMetadata>({ id: shortContainerId(sb.id), fullId: sb.id, type, name: sb.metadata?.name, privileged: false, labels: {}, mounts: [] });
    return withSandbox(meta, sb);
  }

  close(): void {
    this.client?.rt.close();
    this.client = undefined;
  }
}

/**
 * The pod's fields on a container's metadata, as Falco's container plugin sets them: the pod's name, namespace, uid
 * and sandbox id as io.kubernetes.* labels (the k8s.* fields read those), the sandbox's labels, its IP and namespaces.
 */
function withSandbox(meta: ContainerMetadata, sb: SandboxStatus & { cniResult?: string }): ContainerMetadata {
  const labels = meta.labels ?? (meta.labels = {});
  labels[SANDBOX_ID_LABEL] = sb.id;
  if (sb.metadata) {
    labels[POD_NAME_LABEL] = sb.metadata.name;
    labels[POD_NAMESPACE_LABEL] = sb.metadata.namespace;
    labels[POD_UID_LABEL] = sb.metadata.uid;
  }
  meta.podSandboxId = sb.id;
  meta.podSandboxLabels = { ...sb.labels };
  if (sb.network?.ip) meta.ip = sb.network.ip;
  if (sb.cniResult) meta.cniResult = sb.cniResult;
  const opts = sb.linux?.namespaces?.options;
  if (opts) {
    meta.hostNetwork = opts.network === 'NODE';
    meta.hostPid = opts.pid === 'NODE';
    meta.hostIpc = opts.ipc === 'NODE';
  }
  return meta;
}

const MAX_CNI_JSON = 4096;

/**
 * container.cni.json / k8s.pod.cni.json: the pod's network interfaces from the sandbox's verbose info, as JSON text
 * (capped at 4 KiB like the plugin). containerd reports every interface CNI touched, the host's bridge and veth
 * included: only the pod's own (they have a network namespace), loopback left out. CRI-O keeps the CNI result in an
 * annotation.
 */
export function cniResultOf(json: string | undefined): string | undefined {
  if (!json) return undefined;
  let info: { cniResult?: { Interfaces?: Record<string, { IPConfigs?: unknown; Mac?: string; Sandbox?: string }> }; runtimeSpec?: OciSpec };
  try {
    info = JSON.parse(json) as typeof info;
  } catch {
    return undefined;
  }
  let text: string | undefined;
  const ifaces = info.cniResult?.Interfaces;
  if (ifaces) {
    const pod: Record<string, { IPConfigs?: unknown; Mac?: string }> = {};
    for (const [name, i] of Object.entries(ifaces)) if (i.Sandbox && name !== 'lo') pod[name] = { IPConfigs: i.IPConfigs, Mac: i.Mac };
    text = JSON.stringify(pod);
  } else {
    text = info.runtimeSpec?.annotations?.['io.kubernetes.cri-o.CNIResult'];
  }
  return text ? text.slice(0, MAX_CNI_JSON) : undefined;
}

function parseInfo(json: string | undefined): VerboseInfo {
  if (!json) return {};
  try {
    return JSON.parse(json) as VerboseInfo;
  } catch {
    return {};
  }
}
