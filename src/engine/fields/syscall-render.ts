/**
 * How syscall parameters read as text in fields and outputs, the way Falco prints them: open flags
 * ("O_RDONLY|O_CLOEXEC"), errno names ("ENOENT"), ptrace requests, capability sets, socket tuples.
 */
import { constants } from 'node:os';
import type { ArgValue, FdInfo, SyscallEvent, ThreadInfo } from '../event.ts';

const OPEN_FLAGS: Array<[number, string]> = [
  [0o1, 'O_WRONLY'], [0o2, 'O_RDWR'], [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'], [0o4010000, 'O_SYNC'], [0o10000000, 'O_PATH'], [0o20000000, 'O_TMPFILE'],
];

export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;

export function openFlagsText(flags: number): string {
  const names = (flags & O_ACCMODE) === 0 ? ['O_RDONLY'] : [];
  for (const [bit, name] of OPEN_FLAGS) if ((flags & bit) === bit) names.push(name);
  return names.join('|');
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export function errnoName(res: number): string {
  return ERRNO_NAMES.get(-res) ?? `E${-res}`;
}

const PTRACE_REQUESTS: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSR', 4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA', 6: 'PTRACE_POKEUSR', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS', 14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 0x4200: 'PTRACE_SETOPTIONS', 0x4206: 'PTRACE_SEIZE',
  0x4207: 'PTRACE_INTERRUPT', 0x4208: 'PTRACE_LISTEN',
};

const SOCKET_FAMILIES: Record<number, string> = {
  0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET', 38: 'AF_ALG', 40: 'AF_VSOCK',
};

const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export function capabilitiesText(mask: bigint): string {
  const names: string[] = [];
  for (let i = 0; i < CAPABILITIES.length; i++) if ((mask >> BigInt(i)) & 1n) names.push(CAPABILITIES[i]!);
  return names.join(' ');
}

/** execve's "flags" parameter: what Falco knows about the executable file. */
export function exeFlagsText(t: ThreadInfo): string {
  const flags: string[] = [];
  if (t.exeWritable) flags.push('EXE_WRITABLE');
  if (t.exeUpperLayer) flags.push('EXE_UPPER_LAYER');
  if (t.exeFromMemfd) flags.push('EXE_FROM_MEMFD');
  if (t.exeLowerLayer) flags.push('EXE_LOWER_LAYER');
  return flags.length ? flags.join('|') : '0';
}

/** "cip:cport->sip:sport" as Falco names IP sockets; IPv6 addresses in brackets are not used by Falco either. */
export function socketTuple(fd: FdInfo): string | undefined {
  if (fd.cip === undefined || fd.sip === undefined) return undefined;
  return `${fd.cip}:${fd.cport ?? 0}->${fd.sip}:${fd.sport ?? 0}`;
}

/** One parameter of the event as Falco prints it (evt.arg.X): symbolic where Falco is. */
export function argText(e: SyscallEvent, name: string): string | undefined {
  if (name === 'res') return resultText(e);
  if (name === 'flags' && (e.type === 'execve' || e.type === 'execveat')) return exeFlagsText(e.thread);
  const v = e.args[name];
  if (v === undefined || v === null) {
    if ((name === 'tuple' || name === 'name') && e.fd) return e.fd.name || undefined;
    return undefined;
  }
  if (name === 'flags' && typeof v === 'number' && ['open', 'openat', 'openat2', 'creat'].includes(e.type)) return openFlagsText(v);
  if (name === 'request' && typeof v === 'number' && e.type === 'ptrace') return PTRACE_REQUESTS[v] ?? String(v);
  if (name === 'domain' && typeof v === 'number') return SOCKET_FAMILIES[v] ?? String(v);
  if (name === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  if (name === 'dirfd' && v === -100) return '-100(AT_FDCWD)';
  return valueText(v);
}

export function resultText(e: SyscallEvent): string {
  return e.res < 0 ? errnoName(e.res) : String(e.res);
}

export function valueText(v: ArgValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return String(v);
}
