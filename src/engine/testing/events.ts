/**
 * Builders for hand-made engine events, so rules can be tested without the kernel or an API server:
 * every field has a plausible default, tests override what the rule looks at.
 */
import type { ContainerInfo, ContainerMetadata, FdInfo, K8sAuditEvent, SyscallEvent, ThreadInfo } from '../event.ts';

let nextNum = 1;
const BASE_TS = 1_700_000_000_000_000_000n;

export interface ThreadSpec extends Partial<Omit<ThreadInfo, 'parent'>> {
  /** Ancestors, nearest first: [parent, grandparent, ...]; each a name or a partial thread. */
  ancestors?: Array<string | Partial<ThreadInfo>>;
}

export function thread(spec: ThreadSpec = {}): ThreadInfo {
  const { ancestors = ['bash', 'sshd', 'systemd'], ...own } = spec;
  let parent: ThreadInfo | undefined;
  for (const a of [...ancestors].reverse()) {
    const p: Partial<ThreadInfo> = typeof a === 'string' ? { comm: a } : a;
    parent = baseThread({ ...p, parent });
  }
  return baseThread({ ...own, parent });
}

function baseThread(p: Partial<ThreadInfo>): ThreadInfo {
  const comm = p.comm ?? 'cat';
  const uid = p.uid ?? 0;
  return {
    tid: p.tid ?? 4242,
    pid: p.pid ?? p.tid ?? 4242,
    ppid: p.ppid ?? p.parent?.pid ?? 1,
    comm,
    exe: p.exe ?? comm,
    exepath: p.exepath ?? `/usr/bin/${comm}`,
    args: p.args ?? [],
    cwd: p.cwd ?? '/root',
    tty: p.tty ?? 0,
    loginuid: p.loginuid ?? 0xffffffff,
    uid,
    gid: p.gid ?? 0,
    startTs: p.startTs ?? BASE_TS - 60_000_000_000n,
    user: p.user ?? { uid, name: uid === 0 ? 'root' : `user${uid}` },
    group: p.group ?? { gid: p.gid ?? 0, name: 'root' },
    ...p,
  } as ThreadInfo;
}

export interface SyscallSpec {
  type: string;
  args?: SyscallEvent['args'];
  res?: number;
  thread?: ThreadSpec | ThreadInfo;
  fd?: FdInfo;
  container?: ContainerInfo;
  ts?: bigint;
}

export function syscall(spec: SyscallSpec): SyscallEvent {
  const t = spec.thread && 'user' in spec.thread && 'startTs' in spec.thread ? (spec.thread as ThreadInfo) : thread(spec.thread as ThreadSpec | undefined);
  if (spec.container) t.container = spec.container;
  const e: SyscallEvent = {
    source: 'syscall',
    num: nextNum++,
    ts: spec.ts ?? BASE_TS,
    type: spec.type,
    dir: '<',
    args: spec.args ?? {},
    res: spec.res ?? 0,
    thread: t,
  };
  if (spec.fd) e.fd = spec.fd;
  return e;
}

/** An openat that succeeded on a regular file. */
export function openFile(path: string, flags: number, t: ThreadSpec = {}, container?: ContainerInfo): SyscallEvent {
  return syscall({
    type: 'openat',
    args: { dirfd: -100, name: path, flags, mode: 0 },
    res: 3,
    fd: { num: 3, type: 'file', name: path, nameRaw: path, openFlags: flags },
    thread: t,
    ...(container ? { container } : {}),
  });
}

/** A successful execve of `t`. */
export function exec(t: ThreadSpec, container?: ContainerInfo): SyscallEvent {
  return syscall({ type: 'execve', args: { filename: t.exepath ?? `/usr/bin/${t.comm ?? 'cat'}` }, res: 0, thread: t, ...(container ? { container } : {}) });
}

/** A container whose runtime metadata is known: `spec` overrides the metadata (and the id). */
export function container(spec: Partial<ContainerMetadata> = {}): ContainerInfo {
  const id = spec.id ?? '3ad7b26ded6d';
  return {
    id,
    type: spec.type ?? 'docker',
    metadata: { id, name: 'web', type: 'docker', image: 'nginx:1.27', imageRepository: 'nginx', imageTag: '1.27', privileged: false, ...spec },
  };
}

export function k8sAudit(raw: Record<string, unknown>): K8sAuditEvent {
  return { source: 'k8s_audit', num: nextNum++, ts: BASE_TS, raw };
}
