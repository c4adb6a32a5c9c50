/**
 * The event model the rule engine evaluates: plain data that the capture core (kernel events plus
 * the user-space process table) and the Kubernetes audit source produce, and that tests build by hand.
 * Field extractors in the engine's field table read only these types.
 *
 * Additive changes only (new optional members): the capture core, the audit source and the engine
 * are written against it independently.
 */

export type ArgValue = string | number | bigint | Uint8Array | null;

export interface SyscallEvent {
  readonly source: 'syscall';
  /** evt.num: sequence number assigned by the capture core. */
  num: number;
  /** Nanoseconds since the Unix epoch. */
  ts: bigint;
  /** evt.type as Falco names it: "execve", "openat", "connect", "procexit", "clone" … */
  type: string;
  /** ">" enter, "<" exit; Peregrine captures exits (as Falco's modern probe does) plus synthetic events. */
  dir: '>' | '<';
  cpu?: number;
  /**
   * Parameters under Falco's names (evt.arg.<name>): openat: dirfd, name, flags, mode; execve: filename;
   * connect: fd, tuple; rename: oldpath, newpath; ptrace: request, pid; … Flags stay numeric (raw);
   * the engine renders them symbolically ("O_RDONLY|O_CLOEXEC") where Falco does.
   */
  args: Record<string, ArgValue>;
  /** evt.rawres: the syscall's return value; negative errno on failure. */
  res: number;
  /** The calling thread's state, as the process table knew it after this event. */
  thread: ThreadInfo;
  /** The file descriptor the event acts on (resolved by the state layer), when there is one. */
  fd?: FdInfo;
}

export interface ThreadInfo {
  tid: number;
  pid: number;
  ppid: number;
  /** Session id and process-group id, in the process's pid namespace. */
  sid?: number;
  vpgid?: number;
  vpid?: number;
  vtid?: number;
  /** proc.name: the comm (up to 15 characters, as the kernel keeps it). */
  comm: string;
  /** proc.exe: argv[0] as given. */
  exe: string;
  /** proc.exepath: full path of the executable file. */
  exepath: string;
  /** proc.args: argv[1..]. */
  args: string[];
  cwd: string;
  env?: string[];
  /** Controlling tty device number; 0 when none. */
  tty: number;
  /** Audit login uid; 0xffffffff (-1 as u32) when unset. */
  loginuid: number;
  uid: number;
  gid: number;
  euid?: number;
  egid?: number;
  /** thread.cap_effective etc. as the kernel's 64-bit masks. */
  capEffective?: bigint;
  capPermitted?: bigint;
  capInheritable?: bigint;
  /** Clone time of the process, ns since epoch (proc.duration, "after startup" rules). */
  startTs: bigint;
  user: UserInfo;
  loginUser?: UserInfo;
  group: GroupInfo;
  exeWritable?: boolean;
  exeUpperLayer?: boolean;
  exeFromMemfd?: boolean;
  exeLowerLayer?: boolean;
  exeIno?: { ino: number; mtimeNs: bigint; ctimeNs: bigint };
  /** Container the process runs in; undefined on the host. */
  container?: ContainerInfo;
  /** Parent process (the process table links these; tests link them by hand). */
  parent?: ThreadInfo;
  /** Process-group leader, for proc.vpgid.* fields. */
  groupLeader?: ThreadInfo;
  /** Session leader, for proc.sname. */
  sessionLeader?: ThreadInfo;
  /** File descriptors known open, by number (fd.num lookups, fd.types[]). */
  fds?: Map<number, FdInfo>;
}

export interface UserInfo {
  uid: number;
  name: string;
  homedir?: string;
  shell?: string;
}

export interface GroupInfo {
  gid: number;
  name: string;
}

/**
 * The container a process runs in, as the kernel side knows it (from the process's cgroup path). Everything
 * else about the container comes from its runtime and is read through `metadata`.
 */
export interface ContainerInfo {
  /** 12-hex-digit short id, as Falco shows container.id; "host" is never used here (undefined container). */
  id: string;
  fullId?: string;
  /** Runtime guessed from the cgroup path (docker, containerd, cri-o, podman …), until metadata says. */
  type?: string;
  /** Start of the container's pid namespace init, ns since epoch (container.start_ts). */
  startTs?: bigint;
  /**
   * What the container runtime reported (name, image, mounts, labels, pod). Undefined until a runtime answered;
   * the field table then asks the registered ContainerMetadataProvider (src/engine/fields/container.ts).
   */
  metadata?: ContainerMetadata;
}

/** One mount of a container, as Falco's container plugin keeps it (source:dest:mode:rdwr:propagation). */
export interface ContainerMount {
  source: string;
  dest: string;
  mode: string;
  rdwr: boolean;
  propagation: string;
}

/**
 * Runtime metadata of one container, shaped after Falco's container plugin (plugins/container container_info):
 * the k8s.* fields derive from the CRI labels (io.kubernetes.pod.name, .namespace, .uid) and the pod sandbox
 * labels, as the plugin derives them.
 */
export interface ContainerMetadata {
  /** Short id (12 hex digits); "host" for the host pseudo-container. */
  id?: string;
  fullId?: string;
  name?: string;
  /** docker, containerd, cri-o, podman, cri, lxc, … ("host" for the host). */
  type?: string;
  image?: string;
  imageId?: string;
  imageRepository?: string;
  imageTag?: string;
  imageDigest?: string;
  /** Primary IPv4 address (container.ip, k8s.pod.ip). */
  ip?: string;
  /** The pod sandbox's CNI result JSON (container.cni.json, k8s.pod.cni.json). */
  cniResult?: string;
  privileged?: boolean;
  hostPid?: boolean;
  hostNetwork?: boolean;
  hostIpc?: boolean;
  mounts?: ContainerMount[];
  /** Container labels (CRI: io.kubernetes.pod.name etc. among them). */
  labels?: Record<string, string>;
  /** Full id of the pod sandbox (k8s.pod.sandbox_id shows its first 12 characters). */
  podSandboxId?: string;
  podSandboxLabels?: Record<string, string>;
}

export type FdType =
  | 'file' | 'directory' | 'ipv4' | 'ipv6' | 'unix' | 'pipe' | 'event' | 'signalfd' | 'eventpoll'
  | 'inotify' | 'timerfd' | 'netlink' | 'bpf' | 'userfaultfd' | 'io_uring' | 'memfd' | 'pidfd' | 'unknown';

export interface FdInfo {
  num: number;
  type: FdType;
  /** File path, or for unix sockets the path; for IP sockets the engine derives "cip:cport->sip:sport". */
  name: string;
  /** The path as the program passed it, before resolution against cwd/dirfd. */
  nameRaw?: string;
  openFlags?: number;
  /** Socket endpoints: client and server side as Falco assigns them (connect: local = client). */
  cip?: string;
  cport?: number;
  sip?: string;
  sport?: number;
  l4proto?: 'tcp' | 'udp' | 'icmp' | 'raw';
  /** Domain name the server IP was resolved from, when known (fd.sip.name). */
  sipName?: string;
  /** Whether the socket is connected (fd.connected). */
  connected?: boolean;
  /** This process is the server end (accept/listen) rather than the client (connect). */
  isServer?: boolean;
  dev?: number;
  ino?: number;
}

/** One Kubernetes audit.k8s.io Event, as the API server's webhook backend sends it. */
export interface K8sAuditEvent {
  readonly source: 'k8s_audit';
  num: number;
  /** From the event's stageTimestamp, ns since epoch. */
  ts: bigint;
  /** The parsed JSON object of the Event. */
  raw: Record<string, unknown>;
}

export type EngineEvent = SyscallEvent | K8sAuditEvent;
