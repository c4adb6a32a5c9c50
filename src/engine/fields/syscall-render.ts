/**
 * How syscall parameters read as text in fields and outputs, the way Falco prints them: flag-typed parameters
 * through libs' tables (flag-tables.ts: "O_RDONLY|O_CLOEXEC", "S_ISUID|..."), errno names ("ENOENT"), capability
 * sets, socket tuples.
 */
import { constants } from 'node:os';
import type { ArgValue, FdInfo, SyscallEvent, ThreadInfo } from '../event.ts';
import { paramText } from './flag-tables.ts';

export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export function errnoName(res: number): string {
  return ERRNO_NAMES.get(-res) ?? `E${-res}`;
}

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
  if (typeof v === 'number') {
    const t = paramText(e.type, name, v);
    if (t) return t.resolved || t.plain;
  }
  if (name === 'dirfd' && v === -100) return '-100(AT_FDCWD)';
  return valueText(v);
}

/** One parameter as evt.args shows it: the value, then its names in parentheses when it has some. */
export function argsEntryText(e: SyscallEvent, name: string): string {
  const v = e.args[name];
  if (typeof v === 'number') {
    const t = paramText(e.type, name, v);
    if (t) return t.resolved ? `${t.plain}(${t.resolved})` : t.plain;
  }
  return argText(e, name) ?? '';
}

export function resultText(e: SyscallEvent): string {
  return e.res < 0 ? errnoName(e.res) : String(e.res);
}

export function valueText(v: ArgValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return String(v);
}
