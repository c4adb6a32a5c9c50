/**
 * The container.* and k8s.* fields of the syscall source, named, typed and argument-parsed as Falco's container
 * plugin (falcosecurity/plugins, plugins/container) defines them. Every value comes through one lookup,
 * `containerMetadata()`: the metadata the capture attached to the process's container, else what the registered
 * provider (the container-runtime clients) knows for its id. Until a runtime answers, only container.id and the
 * fields the kernel side knows (start time, cgroup-derived type) have values; the rest are <NA>, as in Falco while
 * its runtime lookup is pending.
 */
import { RE2JS } from 're2js';
import type { ContainerInfo, ContainerMetadata, ContainerMount, SyscallEvent } from '../event.ts';
import { def, KEY_ARG, KEY_ARG_DOT } from './define.ts';
import type { FieldDef, FieldValue } from './field.ts';

type E = SyscallEvent;
type F = FieldDef<E>;

/** Answers runtime metadata for a container id (short or full); undefined while unknown. */
export interface ContainerMetadataProvider {
  containerInfo(id: string): ContainerMetadata | undefined;
}

let provider: ContainerMetadataProvider | undefined;

/** Registers the runtime clients' lookup (one per process; the last registration wins). */
export function setContainerMetadataProvider(p: ContainerMetadataProvider | undefined): void {
  provider = p;
}

/** The plugin's pseudo-container for host processes: id and name "host", type "host", everything else empty. */
const HOST: Readonly<ContainerMetadata> = Object.freeze({
  id: 'host', fullId: 'host', name: 'host', type: 'host', image: '', imageId: '', imageRepository: '', imageTag: '',
  imageDigest: '', ip: '', cniResult: '', privileged: false, hostPid: false, hostNetwork: false, hostIpc: false,
  mounts: [], labels: {}, podSandboxId: '', podSandboxLabels: {},
});

/** The one lookup every container/k8s field goes through. */
export function containerMetadata(c: ContainerInfo | undefined): ContainerMetadata | undefined {
  if (!c) return HOST;
  return c.metadata ?? provider?.containerInfo(c.fullId ?? c.id);
}

function meta(e: E): ContainerMetadata | undefined {
  return containerMetadata(e.thread.container);
}

/**
 * The pod sandbox's own metadata when this container's record lacks the pod network result (CRI keeps pod
 * labels, ip and CNI result on the sandbox), as the plugin falls back to it.
 */
function podSource(m: ContainerMetadata): ContainerMetadata {
  if (m.cniResult || !m.podSandboxId) return m;
  return provider?.containerInfo(m.podSandboxId.slice(0, 12)) ?? m;
}

/** Labels as "k:v, k2:v2" in key order, without annotations and io.kubernetes.* (the plugin's format). */
function labelsText(labels: Record<string, string> | undefined): string | undefined {
  if (!labels) return undefined;
  return Object.keys(labels)
    .sort()
    .filter((k) => !k.startsWith('annotation.') && !k.startsWith('io.kubernetes.'))
    .map((k) => (labels[k] ? `${k}:${labels[k]}` : k))
    .join(', ');
}

function mountText(m: ContainerMount): string {
  return `${m.source}:${m.dest}:${m.mode}:${m.rdwr}:${m.propagation}`;
}

/** The plugin's suggested output fields, which Falco appends to every syscall rule's output by default. */
const SUGGESTED = new Set(['container.id', 'container.name', 'container.image.repository', 'container.image.tag', 'k8s.pod.name', 'k8s.ns.name']);

type PathPattern = { find(s: string): boolean };
const patterns = new Map<string, PathPattern | null>();
/**
 * The plugin matches a mount's path against the argument as a regular expression (a search, multiline). Rule
 * files are input: the pattern runs on RE2 (linear time) like the engine's regex operator.
 */
function pathPattern(arg: string): PathPattern | null {
  let re = patterns.get(arg);
  if (re === undefined) {
    try {
      const compiled = RE2JS.compile(arg, RE2JS.MULTILINE);
      re = { find: (s) => compiled.matcher(s).find() };
    } catch {
      re = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(arg, re);
  }
  return re;
}

/**
 * The mount an argument selects: a plain number is an index (no leading zero, as libsinsp parses indexes);
 * otherwise container.mount.source[X] finds the mount whose destination matches X and every other mount field
 * the one whose source matches X.
 */
function selectMount(m: ContainerMetadata, arg: string | undefined, byDest: boolean): ContainerMount | undefined {
  const mounts = m.mounts ?? [];
  if (arg === undefined) return undefined;
  if (/^(0|[1-9]\d*)$/.test(arg)) return mounts[Number(arg)];
  const re = pathPattern(arg);
  if (!re) return undefined;
  return mounts.find((x) => re.find(byDest ? x.dest : x.source));
}

function mountField(name: string, description: string, pick: (x: ContainerMount) => string): F {
  const byDest = name === 'container.mount.source';
  return def(name, 'charbuf', description, (e, arg) => {
    const m = meta(e);
    const x = m && selectMount(m, arg, byDest);
    return x ? pick(x) : undefined;
  }, { arg: KEY_ARG });
}

function fromMeta(name: string, type: 'charbuf' | 'bool', description: string, pick: (m: ContainerMetadata) => FieldValue): F {
  return def(name, type, description, (e) => {
    const m = meta(e);
    return m ? pick(m) : undefined;
  });
}

/** A field the plugin still declares but no longer fills (deprecated): always <NA>. */
function deprecated(name: string, type: 'charbuf' | 'bool' = 'charbuf', withKey = false): F {
  return def(name, type, 'Deprecated in Falco\'s container plugin; never has a value.', () => undefined, withKey ? { arg: KEY_ARG } : {});
}

function label(labels: Record<string, string> | undefined, key: string | undefined): string | undefined {
  return key === undefined || !labels || !Object.hasOwn(labels, key) ? undefined : labels[key];
}

export const containerFields: F[] = ([
  def('container.id', 'charbuf', 'Container id (first 12 hex digits, from the cgroup), or "host".', (e) => meta(e)?.id ?? e.thread.container?.id ?? 'host'),
  fromMeta('container.full_id', 'charbuf', 'Full container id, or "host".', (m) => m.fullId),
  fromMeta('container.name', 'charbuf', 'Container name, or "host".', (m) => m.name),
  fromMeta('container.image', 'charbuf', 'Image name (e.g. falcosecurity/falco:latest).', (m) => m.image),
  fromMeta('container.image.id', 'charbuf', 'Image id (e.g. 6f7e2741b66b).', (m) => m.imageId),
  def('container.type', 'charbuf', 'Container runtime: docker, containerd, cri-o, podman …; "host" on the host.', (e) =>
    meta(e)?.type ?? e.thread.container?.type),
  fromMeta('container.privileged', 'bool', 'The container runs privileged.', (m) => m.privileged),
  fromMeta('container.mounts', 'charbuf', 'Every mount as source:dest:mode:rdwr:propagation, comma-separated.', (m) =>
    m.mounts?.map(mountText).join(',')),
  mountField('container.mount', 'One mount (source:dest:mode:rdwr:propagation) by index (container.mount[0]) or source pattern.', mountText),
  mountField('container.mount.source', 'Mount source, by index or destination pattern (container.mount.source[/host/lib/modules]).', (x) => x.source),
  mountField('container.mount.dest', 'Mount destination, by index or source pattern (container.mount.dest[/lib/modules]).', (x) => x.dest),
  mountField('container.mount.mode', 'Mount mode, by index or source pattern.', (x) => x.mode),
  mountField('container.mount.rdwr', 'Mount is read-write ("true"/"false"), by index or source pattern.', (x) => String(x.rdwr)),
  mountField('container.mount.propagation', 'Mount propagation, by index or source pattern.', (x) => x.propagation),
  fromMeta('container.image.repository', 'charbuf', 'Image repository (e.g. falcosecurity/falco).', (m) => m.imageRepository),
  fromMeta('container.image.tag', 'charbuf', 'Image tag (e.g. latest).', (m) => m.imageTag),
  fromMeta('container.image.digest', 'charbuf', 'Image registry digest (sha256:…).', (m) => m.imageDigest),
  deprecated('container.healthcheck'),
  deprecated('container.liveness_probe'),
  deprecated('container.readiness_probe'),
  def('container.start_ts', 'abstime', 'Container start (its pid namespace init), ns since the epoch.', (e) => e.thread.container?.startTs),
  def('container.duration', 'reltime', 'Nanoseconds since container.start_ts.', (e) => {
    const start = e.thread.container?.startTs;
    return start === undefined ? undefined : e.ts - start;
  }),
  fromMeta('container.ip', 'charbuf', "The container's (pod's) primary IPv4 address.", (m) => m.ip),
  fromMeta('container.cni.json', 'charbuf', "The pod's CNI result as JSON text (CRI runtimes).", (m) => m.cniResult),
  fromMeta('container.host_pid', 'bool', 'The container shares the host PID namespace.', (m) => m.hostPid),
  fromMeta('container.host_network', 'bool', 'The container shares the host network namespace.', (m) => m.hostNetwork),
  fromMeta('container.host_ipc', 'bool', 'The container shares the host IPC namespace.', (m) => m.hostIpc),
  def('container.label', 'charbuf', 'One container label: container.label[foo].', (e, arg) => label(meta(e)?.labels, arg), { arg: KEY_ARG }),
  fromMeta('container.labels', 'charbuf', 'Container labels as "k:v, k2:v2".', (m) => labelsText(m.labels)),
  deprecated('proc.is_container_healthcheck', 'bool'),
  deprecated('proc.is_container_liveness_probe', 'bool'),
  deprecated('proc.is_container_readiness_probe', 'bool'),
  fromMeta('k8s.pod.name', 'charbuf', 'Kubernetes pod name (CRI label io.kubernetes.pod.name).', (m) => label(m.labels, 'io.kubernetes.pod.name')),
  fromMeta('k8s.ns.name', 'charbuf', 'Kubernetes namespace (CRI label io.kubernetes.pod.namespace).', (m) => label(m.labels, 'io.kubernetes.pod.namespace')),
  fromMeta('k8s.pod.id', 'charbuf', 'Legacy name of k8s.pod.uid.', (m) => label(m.labels, 'io.kubernetes.pod.uid')),
  fromMeta('k8s.pod.uid', 'charbuf', 'Kubernetes pod UID.', (m) => label(m.labels, 'io.kubernetes.pod.uid')),
  fromMeta('k8s.pod.sandbox_id', 'charbuf', 'Pod sandbox id, first 12 characters.', (m) => m.podSandboxId?.slice(0, 12)),
  fromMeta('k8s.pod.full_sandbox_id', 'charbuf', 'Full pod sandbox id.', (m) => m.podSandboxId),
  def('k8s.pod.label', 'charbuf', 'One pod label: k8s.pod.label[app] (or k8s.pod.label.app).', (e, arg) => {
    const m = meta(e);
    if (!m) return undefined;
    return label(podSource(m).podSandboxLabels, arg) ?? label(m.podSandboxLabels, arg);
  }, { arg: KEY_ARG_DOT }),
  fromMeta('k8s.pod.labels', 'charbuf', 'Pod labels as "k:v, k2:v2".', (m) => labelsText(podSource(m).podSandboxLabels)),
  fromMeta('k8s.pod.ip', 'charbuf', "The pod's IPv4 address.", (m) =>
    (m.cniResult || !m.podSandboxId ? m.ip : provider?.containerInfo(m.podSandboxId.slice(0, 12))?.ip)),
  fromMeta('k8s.pod.cni.json', 'charbuf', "The pod's CNI result as JSON text.", (m) =>
    (m.cniResult || !m.podSandboxId ? m.cniResult : provider?.containerInfo(m.podSandboxId.slice(0, 12))?.cniResult)),
  ...['rc', 'svc', 'rs', 'deployment'].flatMap((kind) => [
    deprecated(`k8s.${kind}.name`), deprecated(`k8s.${kind}.id`), deprecated(`k8s.${kind}.label`, 'charbuf', true), deprecated(`k8s.${kind}.labels`),
  ]),
  deprecated('k8s.ns.id'), deprecated('k8s.ns.label', 'charbuf', true), deprecated('k8s.ns.labels'),
] as F[]).map((d) => (SUGGESTED.has(d.name) ? { ...d, suggestedOutput: true } : d));
