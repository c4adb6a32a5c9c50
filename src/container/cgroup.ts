/**
 * Which container a cgroup path belongs to, for every runtime's layout (cgroup v1 and v2, cgroupfs and systemd
 * drivers). Pure: the kernel gives the path (or, at exec, its last two components), this names the container id and
 * the runtime to ask for its metadata.
 *
 *   /docker/<id>                                   Docker, cgroupfs driver
 *   /system.slice/docker-<id>.scope                Docker, systemd driver (also cri-dockerd under kubepods)
 *   /k8s.io/<id>                                   containerd's CRI plugin, cgroupfs driver
 *   /kubepods/besteffort/pod<uid>/<id>             kubelet, cgroupfs driver (any CRI runtime)
 *   /kubepods.slice/…/cri-containerd-<id>.scope    containerd's CRI plugin, systemd driver
 *   …/kubepods-pod<uid>.slice:cri-containerd:<id>  containerd without SystemdCgroup
 *   …/crio-<id>.scope, /crio-<id>                  CRI-O (crio-conmon-<id> is its monitor, not the container)
 *   /machine.slice/libpod-<id>.scope[/container]   podman (also libpod-payload-<id>, /libpod_parent/libpod-<id>)
 *   /<namespace>/<id>                              containerd clients (ctr, nerdctl …): any id, known namespaces only
 */

/** Runtime the layout points at; "cri" when only Kubernetes' layout is known (any CRI runtime). */
export type RuntimeHint = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'cri';

export interface CgroupContainer {
  /** The id as the runtime knows it (64 hex digits for Docker, Kubernetes and podman; any name for ctr). */
  fullId: string;
  runtime: RuntimeHint;
  /** containerd namespace, when the path names it (k8s.io, moby, default …). */
  namespace?: string;
}

/** containerd namespaces recognised before the runtime has listed its own. */
export const DEFAULT_CONTAINERD_NAMESPACES: ReadonlySet<string> = new Set(['default', 'k8s.io', 'moby']);

const HEX64 = '[0-9a-fA-F]{64}';
const PREFIXED = new RegExp(`^(docker|cri-containerd|crio|libpod-payload|libpod|nerdctl)-(${HEX64})(?:\\.scope)?$`);
const COLON_CRI = new RegExp(`:cri-containerd:(${HEX64})$`);
const BARE = new RegExp(`^${HEX64}$`);
/** containerd's identifier rule (ctr refuses other ids): alphanumerics separated by single . _ -, at most 76. */
const CONTAINERD_ID = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const PREFIX_RUNTIME: Record<string, RuntimeHint> = {
  'docker': 'docker', 'cri-containerd': 'containerd', 'crio': 'cri-o', 'libpod': 'podman', 'libpod-payload': 'podman', 'nerdctl': 'containerd',
};

/**
 * The container of one cgroup path, or undefined for a host cgroup. Exec records carry only "parent/leaf"
 * (no leading slash); that is enough for every layout above.
 */
export function containerFromCgroupPath(path: string, containerdNamespaces: ReadonlySet<string> = DEFAULT_CONTAINERD_NAMESPACES): CgroupContainer | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  let leaf = parts.pop();
  if (leaf === undefined) return undefined;
  // podman's "split" mode nests the payload one level down: libpod-<id>.scope/container
  if (leaf === 'container' && parts.length > 0 && parts[parts.length - 1]!.startsWith('libpod-')) leaf = parts.pop()!;
  const parent = parts[parts.length - 1] ?? '';

  const prefixed = PREFIXED.exec(leaf);
  if (prefixed) return { fullId: prefixed[2]!.toLowerCase(), runtime: PREFIX_RUNTIME[prefixed[1]!]! };
  const colon = COLON_CRI.exec(leaf);
  if (colon) return { fullId: colon[1]!.toLowerCase(), runtime: 'containerd' };
  if (BARE.test(leaf)) {
    const fullId = leaf.toLowerCase();
    if (parent === 'docker') return { fullId, runtime: 'docker' };
    if (parent === 'libpod_parent') return { fullId, runtime: 'podman' };
    if (containerdNamespaces.has(parent)) return { fullId, runtime: parent === 'moby' ? 'docker' : 'containerd', namespace: parent };
    if (/^pod[0-9a-f_-]+$/i.test(parent) || parts.some((p) => p.startsWith('kubepods'))) return { fullId, runtime: 'cri' };
    // A 64-hex leaf anywhere else is still a runc container (Falco's Docker layout accepts it): ask every runtime.
    return { fullId, runtime: 'docker' };
  }
  // ctr and other containerd clients: /<namespace>/<any id>, only under a namespace containerd has.
  if (parts.length >= 1 && containerdNamespaces.has(parent) && leaf.length <= 76 && CONTAINERD_ID.test(leaf)
    && !/\.(?:scope|slice|service)$/.test(leaf)) {
    return { fullId: leaf, runtime: 'containerd', namespace: parent };
  }
  return undefined;
}

/** The first container named by any of a process's cgroup paths (one per hierarchy). */
export function containerFromCgroupPaths(paths: readonly string[], containerdNamespaces?: ReadonlySet<string>): CgroupContainer | undefined {
  for (const p of paths) {
    const c = containerFromCgroupPath(p, containerdNamespaces);
    if (c) return c;
  }
  return undefined;
}

/** container.id: the first 12 characters, as Falco shows it. */
export function shortContainerId(fullId: string): string {
  return fullId.length > 12 ? fullId.slice(0, 12) : fullId;
}
