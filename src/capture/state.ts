/**
 * The user-space process table and the event builder: turns decoded kernel records into SyscallEvents
 * (Falco's evt.type and parameter names, resolved fd, full ThreadInfo) while keeping the table current
 * from clone/exec/exit, chdir and the fd-creating syscalls.
 */
import { posix } from 'node:path';
import type { ArgValue, ContainerInfo, FdInfo, FdType, SyscallEvent, ThreadInfo } from '../engine/event.ts';
import { AF_INET, AF_INET6, AF_UNIX, decodeSockaddr, decodeTuple, type RawEvent, type SockAddr, type Tuple } from './decode.ts';
import { Accounts, bootTimeNs, containerInfoOf, listPids, readCgroups, readCwd, readFdLink, readProc, type ProcSnapshot } from './proc.ts';
import { containerFromCgroupPath, containerFromCgroupPaths, type CgroupContainer } from '../container/cgroup.ts';

const AT_FDCWD = -100;
const O_DIRECTORY = 0o200000;
const NR_CLONE = 56, NR_FORK = 57, NR_VFORK = 58, NR_EXECVEAT = 322, NR_CLONE3 = 435;
const CG = 128;
/** struct pg_exec_extra after the exec record's four cgroup names (native/peregrine.h). */
const EXEC_EXTRA = 4 * CG, EXEC_EXTRA_SIZE = 32;
const EXE_UPPER_LAYER = 1, EXE_LOWER_LAYER = 2;

const I = (x: number) => x | 0;
const U = (x: number) => x >>> 0;

/** bpf(2) commands whose result is a new file descriptor (map, program, BTF, link, iterator). */
const BPF_FD_COMMANDS = new Set([0, 5, 7, 13, 14, 17, 18, 19, 28, 30, 33]);

/**
 * The parameters of the socket I/O calls in libs' order (evt.arg[N]), with the data Falco keeps (evt.buffer: up to
 * the snaplen, 80 bytes, copied by the kernel side; for the msg calls from the first iovec).
 */
function ioArgs(kind: string, fd: number, a: number[], res: number, data: Buffer | undefined, tuple: string | null): Record<string, ArgValue> {
  const bytes = data ? new Uint8Array(data) : null;
  switch (kind) {
    case 'sendto': return { data: bytes, fd, size: U(a[2]!), tuple };
    case 'recvfrom': return { data: bytes, tuple, fd, size: U(a[2]!) };
    case 'recvmsg': return { size: res >= 0 ? res : 0, data: bytes, tuple, msgcontrol: null, fd };
    default: return { data: bytes, fd, size: null, tuple };
  }
}

/** The environment blob of an exec (NUL-separated "NAME=value" entries), as proc.env's list. */
function envOf(b: Buffer | undefined): string[] | undefined {
  if (!b || b.length === 0) return undefined;
  const env = b.toString('utf8').split('\0');
  if (env[env.length - 1] === '') env.pop();
  return env;
}

/** Where containers derived from cgroups go: the runtime-metadata cache (src/container/), or nowhere. */
export interface ContainerDirectory {
  /** containerd namespaces, for the /<namespace>/<id> cgroup layout. */
  readonly namespaces: ReadonlySet<string>;
  /** The one shared ContainerInfo of this container (its runtime metadata is filled in the background). */
  intern(c: CgroupContainer): ContainerInfo;
}

export interface StateOptions {
  accounts?: Accounts;
  containers?: ContainerDirectory;
  /** ns to add to CLOCK_MONOTONIC to get ns since the epoch. */
  monoToEpoch: bigint;
}

export class CaptureState {
  readonly procs = new Map<number, ThreadInfo>();
  private readonly threadViews = new Map<number, { base: ThreadInfo; view: ThreadInfo }>();
  private readonly accounts: Accounts;
  private readonly containers: ContainerDirectory | undefined;
  private readonly bootNs: bigint;
  private exited: number[] = [];
  monoToEpoch: bigint;
  private num = 0;

  constructor(opts: StateOptions) {
    this.accounts = opts.accounts ?? new Accounts();
    this.containers = opts.containers;
    this.monoToEpoch = opts.monoToEpoch;
    this.bootNs = bootTimeNs();
  }

  /** Seeds the table from /proc (every process that exists now). */
  seedFromProc(): number {
    const snaps: ProcSnapshot[] = [];
    for (const pid of listPids()) {
      const s = readProc(pid);
      if (s) snaps.push(s);
    }
    for (const s of snaps) this.procs.set(s.pid, this.fromSnapshot(s));
    for (const info of this.procs.values()) this.link(info);
    return snaps.length;
  }

  private link(info: ThreadInfo): void {
    const p = this.procs.get(info.ppid);
    if (p && p !== info) info.parent = p;
    if (info.sid !== undefined) {
      const s = this.procs.get(info.sid);
      if (s) info.sessionLeader = s;
    }
    if (info.vpgid !== undefined) {
      const g = this.procs.get(info.vpgid);
      if (g) info.groupLeader = g;
    }
  }

  private fromSnapshot(s: ProcSnapshot): ThreadInfo {
    const info: ThreadInfo = {
      tid: s.pid, pid: s.pid, ppid: s.ppid, sid: s.sid, vpgid: s.pgid,
      comm: s.comm, exe: s.argv[0] ?? s.comm, exepath: exePathOf(s.exepath), args: s.argv.slice(1),
      cwd: s.cwd, tty: s.tty, loginuid: s.loginuid, uid: s.uid, gid: s.gid, euid: s.euid, egid: s.egid,
      startTs: this.bootNs + s.startBootNs,
      user: this.accounts.user(s.uid), group: this.accounts.group(s.gid),
      fds: new Map(),
    };
    if (s.vpid !== undefined) info.vpid = s.vpid;
    if (s.loginuid !== 0xffffffff) info.loginUser = this.accounts.user(s.loginuid);
    if (s.capEffective !== undefined) info.capEffective = s.capEffective;
    if (s.capPermitted !== undefined) info.capPermitted = s.capPermitted;
    if (s.capInheritable !== undefined) info.capInheritable = s.capInheritable;
    if (info.exepath.startsWith('memfd:')) info.exeFromMemfd = true;
    if (s.env) info.env = s.env;
    const c = this.container(containerFromCgroupPaths(s.cgroups, this.containers?.namespaces));
    if (c) info.container = c;
    return info;
  }

  /** The process's entry; seeded from /proc (or from the record) when the table does not know it. */
  private lookup(r: RawEvent): ThreadInfo {
    let info = this.procs.get(r.pid);
    if (!info) {
      const s = readProc(r.pid);
      if (s) info = this.fromSnapshot(s);
      else {
        info = {
          tid: r.pid, pid: r.pid, ppid: r.ppid, comm: r.comm, exe: r.comm, exepath: '', args: [], cwd: '/', tty: 0,
          loginuid: r.loginuid, uid: r.uid, gid: r.gid, startTs: 0n,
          user: this.accounts.user(r.uid), group: this.accounts.group(r.gid), fds: new Map(),
        };
      }
      if (!this.procs.has(info.ppid) && info.ppid > 0) {
        const ps = readProc(info.ppid);
        if (ps) {
          const p = this.fromSnapshot(ps);
          this.procs.set(p.pid, p);
          this.link(p);
        }
      }
      this.procs.set(r.pid, info);
      this.link(info);
      return info;
    }
    // Credentials, name and parent can change without an event we track (setresuid, prctl, reparenting).
    if (info.uid !== r.uid || info.gid !== r.gid || info.comm !== r.comm || info.ppid !== r.ppid) {
      const next: ThreadInfo = { ...info, uid: r.uid, gid: r.gid, comm: r.comm, ppid: r.ppid, euid: r.euid };
      next.user = this.accounts.user(r.uid);
      next.group = this.accounts.group(r.gid);
      if (info.ppid !== r.ppid) {
        const p = this.procs.get(r.ppid);
        if (p) next.parent = p;
        else delete next.parent;
      }
      this.procs.set(r.pid, next);
      info = next;
    }
    return info;
  }

  private view(info: ThreadInfo, tid: number): ThreadInfo {
    if (tid === info.pid) return info;
    const v = this.threadViews.get(tid);
    if (v && v.base === info) return v.view;
    // A thread shares everything with its process but the tid: one copy per thread and process version.
    const view: ThreadInfo = { ...info, tid };
    this.threadViews.set(tid, { base: info, view });
    return view;
  }

  /** Call after each batch: forgets processes that exited (their objects live on in parent links). */
  endBatch(): void {
    for (const pid of this.exited) {
      this.procs.delete(pid);
    }
    this.exited = [];
    if (this.threadViews.size > 65536) this.threadViews.clear();
    this.accounts.refresh();
  }

  private fdOf(info: ThreadInfo, num: number): FdInfo | undefined {
    const fds = info.fds ?? (info.fds = new Map());
    let fd = fds.get(num);
    if (fd) return fd;
    const l = readFdLink(info.pid, num);
    if (l === undefined) return undefined;
    fd = fdFromLink(num, l);
    fds.set(num, fd);
    return fd;
  }

  private setFd(info: ThreadInfo, fd: FdInfo): void {
    (info.fds ?? (info.fds = new Map())).set(fd.num, fd);
  }

  private resolve(info: ThreadInfo, dirfd: number, p: string | undefined): string | undefined {
    if (p === undefined) return undefined;
    if (p.startsWith('/')) return posix.normalize(p);
    let base = info.cwd;
    if (dirfd !== AT_FDCWD) {
      const d = this.fdOf(info, dirfd);
      if (d && d.name.startsWith('/')) base = d.name;
    }
    return p === '' ? base : posix.join(base, p);
  }

  /**
   * Applies a record to the table; returns the event when `want` says it is delivered.
   * want(type) is asked with the Falco evt.type.
   */
  handle(r: RawEvent, want: (type: string) => boolean): SyscallEvent | undefined {
    const ts = r.mono + this.monoToEpoch;
    const a = r.args;
    const res = r.ret;
    const s0 = r.str[0], s1 = r.str[1], s2 = r.str[2];
    let info = this.lookup(r);
    let type = r.kind;
    let args: Record<string, ArgValue>;
    let fd: FdInfo | undefined;

    switch (r.kind) {
      case 'exec': {
        type = a[0] === NR_EXECVEAT ? 'execveat' : 'execve';
        info = this.exec(r, info, ts);
        const filename = s0 ?? '';
        args = { filename, exe: info.exe, args: info.args.join(' ') };
        break;
      }
      case 'clone': {
        const nr = a[4] ?? 0;
        type = nr === NR_FORK ? 'fork' : nr === NR_VFORK ? 'vfork' : nr === NR_CLONE3 ? 'clone3' : 'clone';
        this.clone(r, info);
        args = nr === NR_CLONE ? { flags: U(a[2] ?? 0) } : {};
        break;
      }
      case 'cgroup':
        // State only (never delivered): the moved process is args[0], the header is the writer's.
        this.moved(a[0]!, s0);
        args = {};
        break;
      case 'exit': {
        type = 'procexit';
        const code = res;
        args = { status: code, ret: (code >> 8) & 0xff, sig: code & 0x7f, core: (code & 0x80) !== 0 ? 1 : 0 };
        this.exited.push(r.pid);
        break;
      }
      case 'open':
      case 'openat':
      case 'openat2':
      case 'creat': {
        let dirfd = AT_FDCWD, flags = 0, mode = 0;
        if (r.kind === 'open') { flags = U(a[1]!); mode = U(a[2]!); args = { name: s0 ?? null, flags, mode }; }
        else if (r.kind === 'creat') { mode = U(a[1]!); flags = 0o1101; args = { name: s0 ?? null, mode }; }
        else if (r.kind === 'openat') { dirfd = I(a[0]!); flags = U(a[2]!); mode = U(a[3]!); args = { dirfd, name: s0 ?? null, flags, mode }; }
        else {
          dirfd = I(a[0]!);
          const how = r.blob3;
          const resolveFlags = how && how.length >= 24 ? Number(how.readBigUInt64LE(16)) : 0;
          if (how && how.length >= 24) { flags = Number(how.readBigUInt64LE(0)) >>> 0; mode = Number(how.readBigUInt64LE(8)); }
          args = { dirfd, name: s0 ?? null, flags, mode, resolve: resolveFlags };
        }
        if (res >= 0) {
          const name = this.resolve(info, dirfd, s0) ?? '';
          fd = { num: res, type: flags & O_DIRECTORY ? 'directory' : 'file', name, openFlags: flags };
          if (s0 !== undefined) fd.nameRaw = s0;
          this.setFd(info, fd);
          args = { fd: res, ...args };
        }
        break;
      }
      case 'execve':
        args = { filename: s0 ?? null };
        break;
      case 'execveat':
        args = { dirfd: I(a[0]!), pathname: s0 ?? null, flags: U(a[4]!), filename: this.resolve(info, I(a[0]!), s0) ?? null };
        break;
      case 'close':
        args = { fd: I(a[0]!) };
        fd = info.fds?.get(I(a[0]!));
        if (res >= 0) info.fds?.delete(I(a[0]!));
        break;
      case 'dup':
      case 'dup2':
      case 'dup3': {
        const oldfd = I(a[0]!);
        args = r.kind === 'dup' ? { oldfd } : r.kind === 'dup2' ? { oldfd, newfd: I(a[1]!) } : { oldfd, newfd: I(a[1]!), flags: U(a[2]!) };
        const old = this.fdOf(info, oldfd);
        if (res >= 0 && old) {
          fd = { ...old, num: res };
          this.setFd(info, fd);
        } else fd = old;
        break;
      }
      case 'socket': {
        const domain = I(a[0]!);
        args = { domain, type: U(a[1]!), proto: I(a[2]!) };
        if (res >= 0) {
          fd = { num: res, type: domain === AF_INET ? 'ipv4' : domain === AF_INET6 ? 'ipv6' : domain === AF_UNIX ? 'unix' : domain === 16 ? 'netlink' : 'unknown', name: '' };
          this.setFd(info, fd);
        }
        break;
      }
      case 'connect': {
        const n = I(a[0]!);
        const t = decodeTuple(r.blob3);
        const sa = decodeSockaddr(r.blob2);
        fd = sockFd(n, t, sa, false, this.fdOf(info, n));
        fd.connected = res === 0;
        this.setFd(info, fd);
        args = { fd: n, tuple: tupleText(fd) ?? null, addr: sa ? addrText(sa) : null };
        break;
      }
      case 'accept':
      case 'accept4': {
        const t = decodeTuple(r.blob3);
        args = { fd: res, tuple: null };
        if (r.kind === 'accept4') args.flags = U(a[3]!);
        if (res >= 0) {
          fd = sockFd(res, t, undefined, true, undefined);
          fd.connected = true;
          this.setFd(info, fd);
          args.tuple = tupleText(fd) ?? null;
        }
        break;
      }
      case 'bind': {
        const n = I(a[0]!);
        const sa = decodeSockaddr(r.blob2);
        const t = decodeTuple(r.blob3);
        fd = sockFd(n, t, undefined, true, this.fdOf(info, n));
        if (fd.type === 'unix' && sa) fd.name = sa.addr;
        this.setFd(info, fd);
        args = { fd: n, addr: sa ? addrText(sa) : null };
        break;
      }
      case 'listen': {
        const n = I(a[0]!);
        const t = decodeTuple(r.blob3);
        fd = sockFd(n, t, undefined, true, this.fdOf(info, n));
        this.setFd(info, fd);
        args = { fd: n, backlog: I(a[1]!) };
        break;
      }
      case 'sendto':
      case 'sendmsg':
      case 'recvfrom':
      case 'recvmsg': {
        const n = I(a[0]!);
        const t = decodeTuple(r.blob3);
        const known = this.fdOf(info, n);
        fd = t && (t.family === AF_INET || t.family === AF_INET6) ? sockFd(n, t, undefined, known?.isServer ?? false, known) : known;
        args = ioArgs(r.kind, n, a, res, r.blob2, fd ? tupleText(fd) ?? null : null);
        break;
      }
      case 'userfaultfd':
        args = { flags: U(a[0]!) };
        if (res >= 0) {
          fd = { num: res, type: 'userfaultfd', name: '' };
          this.setFd(info, fd);
        }
        break;
      case 'bpf': {
        const cmd = I(a[0]!);
        args = { fd: res, cmd };
        if (res >= 0 && BPF_FD_COMMANDS.has(cmd)) {
          fd = { num: res, type: 'bpf', name: '' };
          this.setFd(info, fd);
        }
        break;
      }
      case 'chdir':
        args = { path: s0 ?? null };
        if (res === 0) this.setCwd(info, this.resolve(info, AT_FDCWD, s0) ?? readCwd(r.pid) ?? info.cwd);
        break;
      case 'fchdir': {
        const n = I(a[0]!);
        args = { fd: n };
        fd = this.fdOf(info, n);
        if (res === 0) this.setCwd(info, readCwd(r.pid) ?? fd?.name ?? info.cwd);
        break;
      }
      case 'chmod': args = { filename: s0 ?? null, mode: U(a[1]!) }; break;
      case 'fchmod': args = { fd: I(a[0]!), mode: U(a[1]!) }; fd = this.fdOf(info, I(a[0]!)); break;
      case 'fchmodat': args = { dirfd: I(a[0]!), filename: s0 ?? null, mode: U(a[2]!) }; break;
      case 'unlink': args = { path: s0 ?? null }; break;
      case 'unlinkat': args = { dirfd: I(a[0]!), name: s0 ?? null, flags: U(a[2]!) }; break;
      case 'rename': args = { oldpath: s0 ?? null, newpath: s1 ?? null }; break;
      case 'renameat': args = { olddirfd: I(a[0]!), oldpath: s0 ?? null, newdirfd: I(a[2]!), newpath: s1 ?? null }; break;
      case 'renameat2': args = { olddirfd: I(a[0]!), oldpath: s0 ?? null, newdirfd: I(a[2]!), newpath: s1 ?? null, flags: U(a[4]!) }; break;
      case 'mkdir': args = { path: s0 ?? null, mode: U(a[1]!) }; break;
      case 'mkdirat': args = { dirfd: I(a[0]!), path: s0 ?? null, mode: U(a[2]!) }; break;
      case 'rmdir': args = { path: s0 ?? null }; break;
      case 'symlink': args = { target: s0 ?? null, linkpath: s1 ?? null }; break;
      case 'symlinkat': args = { target: s0 ?? null, linkdirfd: I(a[1]!), linkpath: s1 ?? null }; break;
      case 'link': args = { oldpath: s0 ?? null, newpath: s1 ?? null }; break;
      case 'linkat': args = { olddir: I(a[0]!), oldpath: s0 ?? null, newdir: I(a[2]!), newpath: s1 ?? null, flags: U(a[4]!) }; break;
      case 'ptrace': args = { request: I(a[0]!), pid: I(a[1]!) }; break;
      case 'setuid': args = { uid: U(a[0]!) }; break;
      case 'setgid': args = { gid: U(a[0]!) }; break;
      case 'setns': args = { fd: I(a[0]!), nstype: I(a[1]!) }; fd = this.fdOf(info, I(a[0]!)); break;
      case 'unshare': args = { flags: U(a[0]!) }; break;
      case 'mount': args = { dev: s0 ?? null, dir: s1 ?? null, type: s2 ?? null, flags: U(a[3]!) }; break;
      case 'umount':
        type = 'umount2';
        args = { name: s0 ?? null, flags: I(a[1]!) }; break;
      case 'init_module': args = { length: a[1]!, uargs: s0 ?? null }; break;
      case 'finit_module': args = { fd: I(a[0]!), uargs: s0 ?? null, flags: I(a[2]!) }; fd = this.fdOf(info, I(a[0]!)); break;
      case 'memfd_create':
        args = { name: s0 ?? null, flags: U(a[1]!) };
        if (res >= 0) {
          fd = { num: res, type: 'memfd', name: `memfd:${s0 ?? ''}` };
          this.setFd(info, fd);
        }
        break;
      default:
        args = {};
    }
    if (!want(type)) return undefined;
    const ev: SyscallEvent = { source: 'syscall', num: ++this.num, ts, type, dir: '<', cpu: r.cpu, args, res, thread: this.view(info, r.tid) };
    if (fd) ev.fd = fd;
    return ev;
  }

  /** The ContainerInfo of a container just found in a cgroup: the directory's shared one, or a fresh one without it. */
  private container(c: CgroupContainer | undefined): ContainerInfo | undefined {
    if (!c) return undefined;
    return this.containers ? this.containers.intern(c) : containerInfoOf(c);
  }

  private setCwd(info: ThreadInfo, cwd: string): void {
    info.cwd = cwd;
  }

  private exec(r: RawEvent, prev: ThreadInfo, ts: bigint): ThreadInfo {
    const argv = (r.str[1] ?? '').split('\0');
    if (argv.length && argv[argv.length - 1] === '') argv.pop();
    const filename = r.str[0] ?? '';
    let dentry = '';
    if (r.blob3) {
      const z = r.blob3.indexOf(0);
      dentry = r.blob3.toString('utf8', 0, z < 0 ? r.blob3.length : z);
    }
    let exepath: string;
    let fromMemfd = false;
    if (dentry.startsWith('memfd:')) {
      exepath = dentry;
      fromMemfd = true;
    } else if (filename.startsWith('/dev/fd/') || filename.startsWith('/proc/self/fd/')) {
      const n = Number(filename.split('/')[filename.startsWith('/dev') ? 3 : 4]);
      const f = Number.isInteger(n) ? prev.fds?.get(n) : undefined;
      exepath = f?.name ?? filename;
      if (f?.type === 'memfd') { exepath = f.name; fromMemfd = true; }
    } else exepath = filename.startsWith('/') ? posix.normalize(filename) : posix.join(prev.cwd, filename);

    let container: ContainerInfo | undefined = prev.container;
    const cg = r.blob2;
    if (cg && cg.length >= 4 * CG) {
      const name = (i: number) => {
        const z = cg.indexOf(0, i * CG);
        return cg.toString('utf8', i * CG, z < 0 || z > (i + 1) * CG ? (i + 1) * CG : z);
      };
      const ns = this.containers?.namespaces;
      const found = containerFromCgroupPath(`${name(0)}/${name(1)}`, ns) ?? containerFromCgroupPath(`${name(2)}/${name(3)}`, ns);
      container = found ? this.container(found) : prev.container;
    }
    const next: ThreadInfo = {
      ...prev,
      tid: r.pid, pid: r.pid, ppid: r.ppid,
      comm: r.comm, exe: argv[0] ?? filename, exepath, args: argv.slice(1),
      tty: r.args[1]!, loginuid: U(r.args[2]!), uid: r.uid, gid: r.gid, euid: r.euid,
      user: this.accounts.user(r.uid), group: this.accounts.group(r.gid),
    };
    if (next.loginuid !== 0xffffffff) next.loginUser = this.accounts.user(next.loginuid);
    else delete next.loginUser;
    const env = envOf(r.more[0]);
    if (env) next.env = env;
    else delete next.env;
    if (fromMemfd) next.exeFromMemfd = true;
    else delete next.exeFromMemfd;
    if (cg) applyExecExtra(next, cg);
    if (container) next.container = container;
    else delete next.container;
    if (next.startTs === 0n) next.startTs = ts;
    const p = this.procs.get(r.ppid);
    if (p && p !== prev) next.parent = p;
    // Close-on-exec descriptors go away; the others stay with the process.
    if (prev.fds) {
      const fds = new Map<number, FdInfo>();
      for (const [n, f] of prev.fds) if (!(f.openFlags !== undefined && f.openFlags & 0o2000000)) fds.set(n, f);
      next.fds = fds;
    }
    this.procs.set(r.pid, next);
    return next;
  }

  /**
   * A process moved to another cgroup: its container is re-derived from the new path, or, when that path names
   * none, from all its hierarchies (it may still sit in a container's cgroup in another one).
   */
  private moved(pid: number, path: string | undefined): void {
    const prev = this.procs.get(pid);
    if (!prev) return; // not known yet: the /proc snapshot taken when it first shows up has the new cgroups
    const ns = this.containers?.namespaces;
    let found = path !== undefined ? containerFromCgroupPath(path, ns) : undefined;
    if (!found) {
      const paths = readCgroups(pid);
      if (paths === undefined) return;
      found = containerFromCgroupPaths(paths, ns);
    }
    const container = this.container(found);
    if (container?.fullId === prev.container?.fullId) return;
    // A new object: events already handed out keep the container they happened in.
    const next: ThreadInfo = { ...prev };
    if (container) next.container = container;
    else delete next.container;
    this.procs.set(pid, next);
  }

  private clone(r: RawEvent, parent: ThreadInfo): void {
    const child = r.args[0]!;
    const startMono = BigInt(Math.round(r.args[3]!));
    const info: ThreadInfo = {
      ...parent,
      tid: child, pid: child, ppid: parent.pid, parent,
      startTs: startMono + this.monoToEpoch,
      fds: new Map(parent.fds ?? []),
    };
    delete info.vpid;
    delete info.vtid;
    // The child's pid in its own namespace (1 for a container's init), when the kernel gave it.
    const vpid = r.args[5] ?? 0;
    if (vpid > 0) info.vpid = vpid;
    this.procs.set(child, info);
  }
}

/**
 * What the kernel says about the program just executed (struct pg_exec_extra): its capabilities as committed at
 * exec (after a runtime dropped some, which /proc read at first sight would miss), the overlayfs layer of its file,
 * and its pid in its namespace.
 */
function applyExecExtra(t: ThreadInfo, blob: Buffer): void {
  if (blob.length < EXEC_EXTRA + EXEC_EXTRA_SIZE) return;
  t.capEffective = blob.readBigUInt64LE(EXEC_EXTRA);
  t.capPermitted = blob.readBigUInt64LE(EXEC_EXTRA + 8);
  t.capInheritable = blob.readBigUInt64LE(EXEC_EXTRA + 16);
  const flags = blob.readUInt32LE(EXEC_EXTRA + 24);
  t.exeUpperLayer = (flags & EXE_UPPER_LAYER) !== 0;
  t.exeLowerLayer = (flags & EXE_LOWER_LAYER) !== 0;
  const vpid = blob.readUInt32LE(EXEC_EXTRA + 28);
  if (vpid > 0) t.vpid = vpid;
}

function fdFromLink(num: number, l: string): FdInfo {
  let type: FdType = 'file';
  let name = l;
  if (l.startsWith('socket:')) type = 'unknown';
  else if (l.startsWith('pipe:')) type = 'pipe';
  else if (l.startsWith('anon_inode:')) {
    const k = l.slice(11).replace(/^\[|\]$/g, '');
    type = k === 'eventfd' ? 'event' : k === 'eventpoll' ? 'eventpoll' : k === 'inotify' ? 'inotify' : k === 'signalfd' ? 'signalfd'
      : k === 'timerfd' ? 'timerfd' : k.startsWith('bpf') ? 'bpf' : k === 'userfaultfd' ? 'userfaultfd' : k === 'io_uring' ? 'io_uring'
      : k === 'pidfd' ? 'pidfd' : 'unknown';
  } else if (l.startsWith('/memfd:')) {
    type = 'memfd';
    name = l.slice(1).replace(/ \(deleted\)$/, '');
  } else name = l.replace(/ \(deleted\)$/, '');
  return { num, type, name };
}

/** /proc/<pid>/exe as Falco shows it: no " (deleted)" suffix, and memfd files as "memfd:<name>". */
function exePathOf(link: string): string {
  const p = link.replace(/ \(deleted\)$/, '');
  return p.startsWith('/memfd:') ? p.slice(1) : p;
}

function l4(t: Tuple): FdInfo['l4proto'] {
  if (t.proto === 6) return 'tcp';
  if (t.proto === 17) return 'udp';
  if (t.proto === 1 || t.proto === 58) return 'icmp';
  return t.type === 1 ? 'tcp' : t.type === 2 ? 'udp' : 'raw';
}

/** An IP or unix socket descriptor from the kernel tuple (and the sockaddr the call named). */
function sockFd(num: number, t: Tuple | undefined, sa: SockAddr | undefined, isServer: boolean, known: FdInfo | undefined): FdInfo {
  const family = t?.family ?? sa?.family;
  if (family === AF_INET || family === AF_INET6) {
    const fd: FdInfo = { num, type: family === AF_INET ? 'ipv4' : 'ipv6', name: '' };
    if (t) fd.l4proto = l4(t);
    const local = t ? { ip: t.laddr, port: t.lport } : undefined;
    let remote = t && t.rport !== 0 ? { ip: t.raddr, port: t.rport } : undefined;
    if (!remote && sa && (sa.family === AF_INET || sa.family === AF_INET6)) remote = { ip: sa.addr, port: sa.port };
    const client = isServer ? remote : local;
    const server = isServer ? local : remote;
    if (client) { fd.cip = client.ip; fd.cport = client.port; }
    if (server) { fd.sip = server.ip; fd.sport = server.port; }
    fd.isServer = isServer;
    fd.name = tupleText(fd) ?? '';
    return fd;
  }
  if (family === AF_UNIX) {
    return { num, type: 'unix', name: sa?.addr || (known?.type === 'unix' ? known.name : '') };
  }
  return known ? { ...known, num } : { num, type: 'unknown', name: '' };
}

function tupleText(fd: FdInfo): string | undefined {
  if (fd.type !== 'ipv4' && fd.type !== 'ipv6') return fd.type === 'unix' ? fd.name : undefined;
  if (fd.cip === undefined || fd.sip === undefined) return undefined;
  return `${fd.cip}:${fd.cport ?? 0}->${fd.sip}:${fd.sport ?? 0}`;
}

function addrText(sa: SockAddr): string {
  return sa.family === AF_UNIX ? sa.addr : `${sa.addr}:${sa.port}`;
}
