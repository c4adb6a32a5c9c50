/**
 * /proc readers, user and group names, and container ids from cgroup paths: what the process table
 * needs to describe a process it did not see start.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { ContainerInfo, GroupInfo, UserInfo } from '../engine/event.ts';
import { containerFromCgroupPath, shortContainerId, type CgroupContainer } from '../container/cgroup.ts';

export interface ProcSnapshot {
  pid: number;
  ppid: number;
  comm: string;
  argv: string[];
  exepath: string;
  cwd: string;
  tty: number;
  sid: number;
  pgid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  loginuid: number;
  /** Start time, ns since boot (CLOCK_BOOTTIME, clock-tick resolution). */
  startBootNs: bigint;
  capEffective?: bigint;
  capPermitted?: bigint;
  capInheritable?: bigint;
  cgroups: string[];
  /** Thread ids of the process (task/). */
  vpid?: number;
  /** The environment it started with (/proc/<pid>/environ), at most ENVIRON_MAX bytes as the kernel side keeps. */
  env?: string[];
}

/** Bytes of a process environment kept, as the kernel side (and Falco's modern probe) bound it. */
const ENVIRON_MAX = 4095;

function read(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function link(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

const CLK_TCK = 100n;

export function readProc(pid: number, root = '/proc'): ProcSnapshot | undefined {
  const stat = read(`${root}/${pid}/stat`);
  if (!stat) return undefined;
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // f[0] = state (field 3); field N is f[N - 3].
  const ppid = Number(f[1]);
  const pgid = Number(f[2]);
  const sid = Number(f[3]);
  const tty = Number(f[4]);
  const start = BigInt(f[19] ?? '0');
  const status = read(`${root}/${pid}/status`) ?? '';
  const ids = (k: string) => (status.match(new RegExp(`^${k}:\\s+(\\d+)\\s+(\\d+)`, 'm')) ?? []).slice(1).map(Number);
  const [uid = 0, euid = 0] = ids('Uid');
  const [gid = 0, egid = 0] = ids('Gid');
  const cap = (k: string) => {
    const m = status.match(new RegExp(`^${k}:\\s+([0-9a-f]+)`, 'm'));
    return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
  };
  const nspid = status.match(/^NSpid:\s+(.*)$/m)?.[1]?.trim().split(/\s+/);
  const cmdline = read(`${root}/${pid}/cmdline`) ?? '';
  const argv = cmdline.split('\0');
  if (argv.length && argv[argv.length - 1] === '') argv.pop();
  const loginuid = Number(read(`${root}/${pid}/loginuid`) ?? '4294967295');
  const cgroups = readCgroups(pid, root) ?? [];
  const snap: ProcSnapshot = {
    pid, ppid, comm, argv,
    exepath: link(`${root}/${pid}/exe`) ?? '',
    cwd: link(`${root}/${pid}/cwd`) ?? '/',
    tty, sid, pgid, uid, gid, euid, egid,
    loginuid: Number.isFinite(loginuid) ? loginuid : 0xffffffff,
    startBootNs: (start * 1_000_000_000n) / CLK_TCK,
    cgroups,
  };
  const ce = cap('CapEff'), cp = cap('CapPrm'), ci = cap('CapInh');
  if (ce !== undefined) snap.capEffective = ce;
  if (cp !== undefined) snap.capPermitted = cp;
  if (ci !== undefined) snap.capInheritable = ci;
  if (nspid && nspid.length) snap.vpid = Number(nspid[nspid.length - 1]);
  const env = readEnviron(`${root}/${pid}/environ`);
  if (env) snap.env = env;
  return snap;
}

function readEnviron(p: string): string[] | undefined {
  let b: Buffer;
  try {
    b = readFileSync(p);
  } catch {
    return undefined;
  }
  if (b.length === 0) return undefined;
  const env = b.subarray(0, ENVIRON_MAX).toString('utf8').split('\0');
  if (env[env.length - 1] === '') env.pop();
  return env;
}

/** The process's cgroup path in each hierarchy (/proc/<pid>/cgroup), undefined when it is gone. */
export function readCgroups(pid: number, root = '/proc'): string[] | undefined {
  const text = read(`${root}/${pid}/cgroup`);
  if (text === undefined) return undefined;
  return text.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1));
}

export function listPids(root = '/proc'): number[] {
  const out: number[] = [];
  for (const name of readdirSync(root)) if (/^\d+$/.test(name)) out.push(Number(name));
  return out;
}

export function readFdLink(pid: number, fd: number): string | undefined {
  return link(`/proc/${pid}/fd/${fd}`);
}

export function readCwd(pid: number): string | undefined {
  return link(`/proc/${pid}/cwd`);
}

// --- containers ---------------------------------------------------------------------------------

/** The kernel-side ContainerInfo of a container found in a cgroup path (runtime metadata comes later). */
export function containerInfoOf(c: CgroupContainer): ContainerInfo {
  return { id: shortContainerId(c.fullId), fullId: c.fullId, type: c.runtime };
}

/** Container of one cgroup path (or its last two components), as a fresh ContainerInfo; layouts: src/container/cgroup.ts. */
export function containerFromCgroup(path: string, containerdNamespaces?: ReadonlySet<string>): ContainerInfo | undefined {
  const c = containerFromCgroupPath(path, containerdNamespaces);
  if (!c) return undefined;
  return containerInfoOf(c);
}

export function containerFromCgroups(paths: readonly string[], containerdNamespaces?: ReadonlySet<string>): ContainerInfo | undefined {
  for (const p of paths) {
    const c = containerFromCgroup(p, containerdNamespaces);
    if (c) return c;
  }
  return undefined;
}

// --- users and groups ---------------------------------------------------------------------------

export class Accounts {
  private users = new Map<number, UserInfo>();
  private groups = new Map<number, GroupInfo>();
  private checkedAt = 0;
  private mtimes = '';
  private readonly passwdPath: string;
  private readonly groupPath: string;

  constructor(root = '/etc') {
    this.passwdPath = `${root}/passwd`;
    this.groupPath = `${root}/group`;
    this.reload();
  }

  private reload(): void {
    const m = (p: string) => {
      try {
        return String(statSync(p).mtimeMs);
      } catch {
        return '-';
      }
    };
    const mt = `${m(this.passwdPath)}/${m(this.groupPath)}`;
    if (mt === this.mtimes) return;
    this.mtimes = mt;
    this.users.clear();
    this.groups.clear();
    for (const line of (read(this.passwdPath) ?? '').split('\n')) {
      const f = line.split(':');
      if (f.length < 7 || !f[0]) continue;
      const uid = Number(f[2]);
      if (!this.users.has(uid)) this.users.set(uid, { uid, name: f[0], homedir: f[5] ?? '', shell: f[6] ?? '' });
    }
    for (const line of (read(this.groupPath) ?? '').split('\n')) {
      const f = line.split(':');
      if (f.length < 3 || !f[0]) continue;
      const gid = Number(f[2]);
      if (!this.groups.has(gid)) this.groups.set(gid, { gid, name: f[0] });
    }
  }

  /** Re-reads the files when they changed (checked at most every 5 s). */
  refresh(now = Date.now()): void {
    if (now - this.checkedAt < 5000) return;
    this.checkedAt = now;
    this.reload();
  }

  // Unknown ids get a "<NA>" entry that is kept, so every event of that id shares one object (as known ids do).
  user(uid: number): UserInfo {
    return getOrAdd(this.users, uid, () => ({ uid, name: '<NA>' }));
  }

  group(gid: number): GroupInfo {
    return getOrAdd(this.groups, gid, () => ({ gid, name: '<NA>' }));
  }
}

function getOrAdd<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

/** Boot time in ns since the epoch (for /proc start times, which count from boot). */
export function bootTimeNs(): bigint {
  const m = (read('/proc/stat') ?? '').match(/^btime\s+(\d+)/m);
  return m?.[1] ? BigInt(m[1]) * 1_000_000_000n : 0n;
}
