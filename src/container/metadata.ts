/**
 * Runtime answers turned into the ContainerMetadata Falco's container plugin fills: image name split into
 * repository/tag, privileged inferred from an OCI spec, mounts and host namespaces from it. Pure.
 */
import type { ContainerMetadata, ContainerMount } from '../engine/event.ts';

export type { ContainerMetadata };

/** "registry:5000/team/app:1.2@sha256:…" -> repository "registry:5000/team/app", tag "1.2" (a port is not a tag). */
export function splitImage(image: string): { repository: string; tag: string } {
  let s = image;
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon < 0 || colon < slash) return { repository: s, tag: '' };
  return { repository: s.slice(0, colon), tag: s.slice(colon + 1) };
}

/** image, image.repository, image.tag (and the digest when the reference pins one). */
export function imageFields(image: string | undefined, digest?: string): Partial<ContainerMetadata> {
  const out: Partial<ContainerMetadata> = {};
  if (image) {
    out.image = image;
    const { repository, tag } = splitImage(image);
    if (repository) out.imageRepository = repository;
    if (tag) out.imageTag = tag;
    const at = image.indexOf('@');
    if (at >= 0 && !digest) digest = image.slice(at + 1);
  }
  if (digest) out.imageDigest = digest;
  return out;
}

/** Image ids are shown as Falco does: 12 hex digits without "sha256:". */
export function shortImageId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12) || undefined;
}

/** The OCI runtime spec members Peregrine reads (containerd's containers.Get spec, CRI's verbose info). */
export interface OciSpec {
  process?: {
    user?: { uid?: number; gid?: number; username?: string };
    capabilities?: { bounding?: string[]; effective?: string[] };
    apparmorProfile?: string;
    selinuxLabel?: string;
  };
  mounts?: { destination?: string; source?: string; type?: string; options?: string[] }[];
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: { type?: string; path?: string }[];
    maskedPaths?: string[];
    readonlyPaths?: string[];
    seccomp?: unknown;
    rootfsPropagation?: string;
  };
}

/**
 * Whether an OCI spec describes a privileged container. containerd keeps no such flag; its WithPrivileged option
 * (ctr --privileged, the CRI plugin) grants every capability and drops the masked and read-only paths, so a spec
 * with CAP_SYS_ADMIN in the bounding set and neither list is privileged. (A hand-made spec could do the same without
 * the flag; for the rules that ask, it is as powerful.)
 */
export function privilegedFromSpec(spec: OciSpec): boolean {
  const linux = spec.linux;
  if (!linux) return false;
  if ((linux.maskedPaths?.length ?? 0) > 0 || (linux.readonlyPaths?.length ?? 0) > 0) return false;
  const bounding = spec.process?.capabilities?.bounding ?? [];
  return bounding.includes('CAP_SYS_ADMIN');
}

/**
 * Mounts as Falco's container plugin lists them from an OCI spec (containerd): every mount of the spec, proc and
 * tmpfs included, read-write unless "ro", the mode= option, and the rootfs propagation for all.
 */
export function mountsFromSpec(spec: OciSpec): ContainerMount[] {
  const propagation = spec.linux?.rootfsPropagation ?? '';
  return (spec.mounts ?? []).filter((m) => m.destination).map((m) => {
    const opts = m.options ?? [];
    const mode = opts.find((o) => o.startsWith('mode='))?.slice(5) ?? '';
    return { source: m.source ?? '', dest: m.destination!, mode, rdwr: !opts.includes('ro'), propagation };
  });
}

/** Host namespaces: a namespace type missing from the spec's list is shared with the host. */
export function hostNamespacesFromSpec(spec: OciSpec): Pick<ContainerMetadata, 'hostPid' | 'hostNetwork' | 'hostIpc'> {
  const types = new Set((spec.linux?.namespaces ?? []).filter((n) => !n.path).map((n) => n.type));
  const joined = new Set((spec.linux?.namespaces ?? []).filter((n) => n.path).map((n) => n.type));
  // A namespace joined by path belongs to another container (the pod sandbox), not to the host.
  const host = (t: string) => !types.has(t) && !joined.has(t);
  return { hostPid: host('pid'), hostNetwork: host('network'), hostIpc: host('ipc') };
}

/** Kubelet's labels naming a container's pod: the k8s.* fields read these (as Falco's container plugin does). */
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const SANDBOX_ID_LABEL = 'io.kubernetes.sandbox.id';

/** Drops undefined members so Object.assign onto a cached ContainerInfo never erases a known value with nothing. */
export function defined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
