/**
 * The syscall source's field table: every field a condition or output may name, with its type, description
 * and extractor over the plain SyscallEvent model. Names, types and meanings follow libsinsp's.
 */
import path from 'node:path';
import type { FdInfo, SyscallEvent, ThreadInfo } from '../event.ts';
import { def, listDef, INDEX_ARG, KEY_ARG_DOT } from './define.ts';
import { fieldTable, type FieldDef, type FieldTable, type FieldType } from './field.ts';
import { rawParam } from './flag-tables.ts';
import { argsEntryText, argText, capabilitiesText, errnoName, O_ACCMODE, O_CREAT, O_RDWR, O_WRONLY, valueText } from './syscall-render.ts';
import { isKnownEventType } from './event-types.ts';
import { containerFields } from './container.ts';

type E = SyscallEvent;
type F = FieldDef<E>;

const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);
const FD_TYPE_CHARS: Record<string, string> = {
  file: 'f', directory: 'd', ipv4: '4', ipv6: '6', unix: 'u', pipe: 'p', event: 'e', signalfd: 's', eventpoll: 'l',
  inotify: 'i', timerfd: 't', netlink: 'n', bpf: 'b', userfaultfd: 'u', io_uring: 'r', memfd: 'm', pidfd: 'P', unknown: 'o',
};

function cmdline(t: ThreadInfo | undefined): string | undefined {
  if (!t) return undefined;
  return t.args.length ? `${t.comm} ${t.args.join(' ')}` : t.comm;
}

/** Ancestor n (1 = parent); 0 is the process itself. */
function ancestor(t: ThreadInfo, n: number): ThreadInfo | undefined {
  let cur: ThreadInfo | undefined = t;
  for (let i = 0; i < n && cur; i++) cur = cur.parent;
  return cur;
}

/** proc.aname[n] with an index, or every ancestor (any-match) without one. */
function ancestors<T>(pick: (t: ThreadInfo) => T | undefined) {
  return (e: E, arg: string | undefined): T | T[] | undefined => {
    if (arg !== undefined) {
      const a = ancestor(e.thread, Number(arg));
      return a ? pick(a) : undefined;
    }
    const out: T[] = [];
    for (let a = e.thread.parent; a; a = a.parent) {
      const v = pick(a);
      if (v !== undefined) out.push(v);
    }
    return out.length ? out : undefined;
  };
}

function fdOf(e: E): FdInfo | undefined {
  return e.fd;
}

function isIp(fd: FdInfo | undefined): fd is FdInfo & { type: 'ipv4' | 'ipv6' } {
  return fd !== undefined && (fd.type === 'ipv4' || fd.type === 'ipv6');
}

/** Local/remote: for the server side of a connection the local end is the server. */
function localIp(fd: FdInfo): string | undefined {
  return fd.isServer ? fd.sip : fd.cip;
}
function remoteIp(fd: FdInfo): string | undefined {
  return fd.isServer ? fd.cip : fd.sip;
}
function localPort(fd: FdInfo): number | undefined {
  return fd.isServer ? fd.sport : fd.cport;
}
function remotePort(fd: FdInfo): number | undefined {
  return fd.isServer ? fd.cport : fd.sport;
}

/** path.posix.dirname, without its general scan for the usual absolute path ("/a/b" -> "/a"); fd.directory is read for most opens. */
function dirname(n: string): string {
  const i = n.lastIndexOf('/');
  if (n.charCodeAt(0) === 47 && n.charCodeAt(n.length - 1) !== 47) {
    if (i === 0) return '/';
    if (i >= 2) return n.slice(0, i);
  }
  return path.posix.dirname(n);
}

function fdName(fd: FdInfo): string {
  if (isIp(fd) && fd.cip !== undefined && fd.sip !== undefined) return `${fd.cip}:${fd.cport ?? 0}->${fd.sip}:${fd.sport ?? 0}`;
  return fd.name;
}

function openFlags(e: E): number | undefined {
  if (!OPEN_TYPES.has(e.type)) return undefined;
  if (e.type === 'creat') return O_CREAT | O_WRONLY;
  const f = e.args.flags;
  return typeof f === 'number' ? f : undefined;
}

/** evt.time as text: local HH:MM:SS.nnnnnnnnn. */
export function localTime(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

export function iso8601(ns: bigint, zone: 'Z' | '+0000'): string {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}${zone}`;
}

/** Raw argument types by parameter name, as libsinsp's event tables give them (numbers compare as numbers). */
const RAWARG_TYPES: Record<string, FieldType | undefined> = {
  res: 'int64', fd: 'int64', dirfd: 'int64', size: 'uint64', flags: 'flags32', mode: 'mode', pid: 'pid', tid: 'pid',
  pgid: 'pid', uid: 'uid', gid: 'gid', euid: 'uid', egid: 'gid', addr: 'bytebuf', tuple: 'bytebuf', data: 'bytebuf',
};

const evtFields: F[] = [
  def('evt.num', 'uint64', 'Event number.', (e) => e.num),
  def('evt.time', 'abstime', 'Event time (text: local HH:MM:SS.nnnnnnnnn).', (e) => e.ts),
  def('evt.time.s', 'charbuf', 'Event time, HH:MM:SS.', (e) => localTime(e.ts).slice(0, 8)),
  def('evt.time.iso8601', 'abstime', 'Event time as ISO 8601 (text: 2016-08-04T16:17:57.881781397+0000).', (e) => e.ts),
  def('evt.datetime', 'charbuf', 'Event date and time.', (e) => iso8601(e.ts, 'Z')),
  def('evt.rawtime', 'abstime', 'Event time in ns since the epoch.', (e) => e.ts),
  def('evt.rawtime.s', 'abstime', 'Seconds part of evt.rawtime.', (e) => e.ts / 1_000_000_000n),
  def('evt.rawtime.ns', 'abstime', 'Nanoseconds part of evt.rawtime.', (e) => e.ts % 1_000_000_000n),
  def('evt.type', 'charbuf', 'Event type (syscall name, or procexit, ...).', (e) => e.type, {
    validateValue: (v) => (isKnownEventType(v) ? undefined : `unknown event type ${v}`),
  }),
  def('syscall.type', 'charbuf', 'System call name (undefined for non-syscall events).', (e) => (e.type === 'procexit' ? undefined : e.type), {
    validateValue: (v) => (isKnownEventType(v) ? undefined : `unknown event type ${v}`),
  }),
  def('evt.dir', 'charbuf', "Event direction: '>' enter, '<' exit.", (e) => e.dir),
  def('evt.cpu', 'int16', 'CPU the event ran on.', (e) => e.cpu),
  def('evt.source', 'charbuf', 'Event source.', () => 'syscall'),
  def('evt.plugininfo', 'charbuf', 'Plugin event summary (none for syscalls).', () => undefined),
  def('evt.hostname', 'charbuf', 'Host name of the machine.', () => HOSTNAME),
  def('evt.args', 'charbuf', 'All event arguments as name=value text.', (e) =>
    Object.keys(e.args).map((k) => `${k}=${argsEntryText(e, k)}`).join(' ')),
  def('evt.arg', 'charbuf', 'One event argument by name (evt.arg.name, evt.arg[name]) or index, as text.', (e, arg) => {
    if (arg === undefined) return undefined;
    if (/^\d+$/.test(arg)) {
      const key = Object.keys(e.args)[Number(arg)];
      return key === undefined ? undefined : argText(e, key);
    }
    return argText(e, arg);
  }, { arg: KEY_ARG_DOT }),
  def('evt.rawarg', 'charbuf', 'One event argument by name, raw (numbers unformatted).', (e, arg) => {
    if (arg === 'res') return e.res;
    const v = arg === undefined ? undefined : e.args[arg];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') return rawParam(e.type, arg!, v);
    return typeof v === 'bigint' ? v : valueText(v);
  }, { arg: KEY_ARG_DOT, argType: (arg) => RAWARG_TYPES[arg] }),
  def('evt.res', 'charbuf', "Result as text: SUCCESS, or the errno name (ENOENT) on failure.", (e) => (e.res < 0 ? errnoName(e.res) : 'SUCCESS')),
  def('evt.rawres', 'int64', 'Result as a number.', (e) => e.res),
  def('evt.failed', 'bool', 'True if the call failed.', (e) => e.res < 0),
  def('evt.is_open_read', 'bool', 'An open that can read.', (e) => {
    const f = openFlags(e);
    return f === undefined ? false : (f & O_ACCMODE) === 0 || (f & O_ACCMODE) === O_RDWR;
  }),
  def('evt.is_open_write', 'bool', 'An open that can write.', (e) => {
    const f = openFlags(e);
    return f === undefined ? false : (f & O_ACCMODE) === O_WRONLY || (f & O_ACCMODE) === O_RDWR;
  }),
  def('evt.is_open_create', 'bool', 'An open with O_CREAT.', (e) => {
    const f = openFlags(e);
    return f === undefined ? false : (f & O_CREAT) !== 0;
  }),
  def('evt.is_open_exec', 'bool', 'An open of an executable file for execution.', () => false),
  def('evt.buffer', 'bytebuf', 'Data buffer of read/write events.', (e) => {
    const v = e.args.data;
    return v instanceof Uint8Array ? v : typeof v === 'string' ? Buffer.from(v, 'latin1') : undefined;
  }),
  def('evt.buflen', 'uint64', 'Length of evt.buffer.', (e) => {
    const v = e.args.data;
    return v instanceof Uint8Array || typeof v === 'string' ? v.length : undefined;
  }),
  def('evt.count', 'uint32', 'Always 1 (for counting).', () => 1),
  // Deprecated in libsinsp (enter events are dropped): kept with its fixed values so old rules still load.
  def('evt.latency', 'reltime', 'Deprecated: always 0.', () => 0),
  def('evt.latency.s', 'reltime', 'Deprecated: always 0.', () => 0),
  def('evt.latency.ns', 'reltime', 'Deprecated: always 0.', () => 0),
  def('evt.latency.human', 'charbuf', 'Deprecated: always "0ns".', () => '0ns'),
  def('evt.wait_latency', 'reltime', 'Deprecated: always 0.', () => 0),
  def('evt.is_io', 'bool', 'A read or write event.', (e) => /^(p?read|p?write|readv|writev|sendto|recvfrom|sendmsg|recvmsg|send|recv)/.test(e.type)),
];

const procFields: F[] = [
  def('proc.pid', 'int64', 'Process id.', (e) => e.thread.pid),
  def('proc.ppid', 'int64', 'Parent process id.', (e) => e.thread.ppid),
  def('proc.vpid', 'int64', 'Process id in its pid namespace.', (e) => e.thread.vpid ?? e.thread.pid),
  def('proc.sid', 'int64', 'Session id.', (e) => e.thread.sid),
  def('proc.vpgid', 'int64', 'Process group id in its pid namespace.', (e) => e.thread.vpgid),
  def('proc.is_vpgid_leader', 'bool', 'The process leads its process group.', (e) =>
    e.thread.vpgid === undefined ? undefined : (e.thread.vpid ?? e.thread.pid) === e.thread.vpgid),
  def('proc.is_sid_leader', 'bool', 'The process leads its session.', (e) => (e.thread.sid === undefined ? undefined : e.thread.pid === e.thread.sid)),
  def('proc.name', 'charbuf', 'Process name (comm, up to 15 characters).', (e) => e.thread.comm),
  def('proc.exe', 'charbuf', 'First command-line argument (argv[0]).', (e) => e.thread.exe),
  def('proc.exepath', 'fspath', 'Full path of the executable.', (e) => e.thread.exepath),
  def('proc.args', 'charbuf', 'Command-line arguments after argv[0], space separated; proc.args[N] is argument N (0 = argv[1]).', (e, arg) =>
    (arg === undefined ? e.thread.args.join(' ') : e.thread.args[Number(arg)] ?? ''), { arg: INDEX_ARG }),
  def('proc.cmdline', 'charbuf', 'Process name and arguments.', (e) => cmdline(e.thread)),
  def('proc.exeline', 'charbuf', 'argv[0] and arguments.', (e) => [e.thread.exe, ...e.thread.args].join(' ')),
  def('proc.cwd', 'charbuf', 'Working directory.', (e) => (e.thread.cwd.endsWith('/') ? e.thread.cwd : `${e.thread.cwd}/`)),
  def('proc.env', 'charbuf', 'Environment at exec, space-separated; proc.env[NAME] is one variable ("" when unset), as libsinsp gives them.', (e, arg) => {
    const env = e.thread.env ?? [];
    if (arg === undefined) return env.join(' ');
    const entry = env.find((x) => x.length > arg.length + 1 && x[arg.length] === '=' && x.startsWith(arg));
    return entry === undefined ? '' : entry.slice(arg.length + 1).replace(/^ +| +$/g, '');
  }, { arg: { kind: 'key', required: false } }),
  def('proc.tty', 'uint32', 'Controlling terminal; 0 when none.', (e) => e.thread.tty),
  def('proc.loginshellid', 'int64', 'Pid of the oldest shell ancestor.', (e) => {
    let id: number | undefined;
    for (let t: ThreadInfo | undefined = e.thread; t; t = t.parent) if (/^(ba|z|k|c|tc|da|fi)?sh$/.test(t.comm)) id = t.pid;
    return id;
  }),
  def('proc.duration', 'reltime', 'Nanoseconds since the process started.', (e) => e.ts - e.thread.startTs),
  def('proc.pid.ts', 'abstime', 'Process start time.', (e) => e.thread.startTs),
  def('proc.pname', 'charbuf', 'Parent process name.', (e) => e.thread.parent?.comm),
  def('proc.pexe', 'charbuf', 'Parent argv[0].', (e) => e.thread.parent?.exe),
  def('proc.pexepath', 'fspath', 'Parent executable path.', (e) => e.thread.parent?.exepath),
  def('proc.pcmdline', 'charbuf', 'Parent name and arguments.', (e) => cmdline(e.thread.parent)),
  def('proc.ppid.duration', 'reltime', 'Nanoseconds since the parent started.', (e) => (e.thread.parent ? e.ts - e.thread.parent.startTs : undefined)),
  def('proc.ppid.ts', 'abstime', 'Parent start time.', (e) => e.thread.parent?.startTs),
  def('proc.aname', 'charbuf', 'Ancestor name: proc.aname[1] is the parent; without an index any ancestor matches.', ancestors((t) => t.comm), { arg: INDEX_ARG }),
  def('proc.apid', 'int64', 'Ancestor pid (index as for proc.aname).', ancestors((t) => t.pid), { arg: INDEX_ARG }),
  def('proc.aexe', 'charbuf', 'Ancestor argv[0].', ancestors((t) => t.exe), { arg: INDEX_ARG }),
  def('proc.aexepath', 'fspath', 'Ancestor executable path.', ancestors((t) => t.exepath), { arg: INDEX_ARG }),
  def('proc.acmdline', 'charbuf', 'Ancestor command line.', ancestors((t) => cmdline(t)), { arg: INDEX_ARG }),
  def('proc.sname', 'charbuf', 'Name of the session leader.', (e) => e.thread.sessionLeader?.comm),
  def('proc.vpgid.name', 'charbuf', 'Name of the process-group leader.', (e) => e.thread.groupLeader?.comm),
  def('proc.vpgid.exe', 'charbuf', 'argv[0] of the process-group leader.', (e) => e.thread.groupLeader?.exe),
  def('proc.vpgid.exepath', 'fspath', 'Executable path of the process-group leader.', (e) => e.thread.groupLeader?.exepath),
  def('proc.is_exe_writable', 'bool', 'The executable is writable by the process user.', (e) => e.thread.exeWritable ?? false),
  def('proc.is_exe_upper_layer', 'bool', 'The executable lives in an overlayfs upper layer (dropped into the container).', (e) => e.thread.exeUpperLayer ?? false),
  def('proc.is_exe_lower_layer', 'bool', 'The executable lives in an overlayfs lower layer (the image).', (e) => e.thread.exeLowerLayer ?? false),
  def('proc.is_exe_from_memfd', 'bool', 'The executable is a memfd_create file.', (e) => e.thread.exeFromMemfd ?? false),
  def('proc.exe_ino', 'uint64', 'Inode of the executable.', (e) => e.thread.exeIno?.ino),
  def('proc.exe_ino.ctime', 'abstime', 'ctime of the executable.', (e) => e.thread.exeIno?.ctimeNs),
  def('proc.exe_ino.mtime', 'abstime', 'mtime of the executable.', (e) => e.thread.exeIno?.mtimeNs),
  def('proc.exe_ino.ctime_duration_proc_start', 'reltime', 'ns between the executable ctime and the process start.', (e) =>
    e.thread.exeIno ? e.thread.startTs - e.thread.exeIno.ctimeNs : undefined),
  def('thread.tid', 'int64', 'Thread id.', (e) => e.thread.tid),
  def('thread.vtid', 'int64', 'Thread id in its pid namespace.', (e) => e.thread.vtid ?? e.thread.tid),
  def('thread.cpu', 'double', 'CPU consumed by the thread (not tracked).', () => undefined),
  def('thread.cap_effective', 'charbuf', 'Effective capabilities (CAP_SYS_ADMIN ...).', (e) => capText(e.thread.capEffective)),
  def('thread.cap_permitted', 'charbuf', 'Permitted capabilities.', (e) => capText(e.thread.capPermitted)),
  def('thread.cap_inheritable', 'charbuf', 'Inheritable capabilities.', (e) => capText(e.thread.capInheritable)),
];

function capText(mask: bigint | undefined): string | undefined {
  return mask === undefined ? undefined : capabilitiesText(mask);
}

const userFields: F[] = [
  def('user.uid', 'uint32', 'User id.', (e) => e.thread.uid),
  def('user.name', 'charbuf', 'User name.', (e) => e.thread.user.name),
  def('user.homedir', 'charbuf', 'Home directory.', (e) => e.thread.user.homedir),
  def('user.shell', 'charbuf', 'Login shell.', (e) => e.thread.user.shell),
  def('user.loginuid', 'int64', 'Audit login uid; -1 when unset.', (e) => (e.thread.loginuid === 0xffffffff ? -1 : e.thread.loginuid)),
  def('user.loginname', 'charbuf', 'Name of the login user.', (e) => (e.thread.loginuid === 0xffffffff ? undefined : e.thread.loginUser?.name)),
  def('group.gid', 'uint32', 'Group id.', (e) => e.thread.gid),
  def('group.name', 'charbuf', 'Group name.', (e) => e.thread.group.name),
];

const fdFields: F[] = [
  def('fd.num', 'int64', 'File descriptor number; -1 when the call failed.', (e) => (e.fd ? e.fd.num : OPEN_TYPES.has(e.type) && e.res < 0 ? -1 : undefined)),
  def('fd.type', 'charbuf', 'Descriptor type: file, directory, ipv4, ipv6, unix, pipe, ...', (e) => fdOf(e)?.type),
  def('fd.typechar', 'charbuf', "Descriptor type as one character: f, d, 4, 6, u, p, ...", (e) => (e.fd ? FD_TYPE_CHARS[e.fd.type] : OPEN_TYPES.has(e.type) ? 'f' : undefined)),
  def('fd.name', 'fspath', 'File path, or "cip:cport->sip:sport" for IP sockets.', (e) => (e.fd ? fdName(e.fd) : failedOpenPath(e))),
  def('fd.nameraw', 'fspath', 'The path as the program passed it.', (e) => e.fd?.nameRaw ?? (OPEN_TYPES.has(e.type) ? strArg(e, 'name') : undefined)),
  def('fd.directory', 'fspath', 'Directory of fd.name.', (e) => {
    const n = e.fd && !isIp(e.fd) ? e.fd.name : failedOpenPath(e);
    if (!n) return undefined;
    return e.fd?.type === 'directory' ? n : dirname(n);
  }),
  def('fd.filename', 'fspath', 'File name part of fd.name.', (e) => {
    const n = e.fd && !isIp(e.fd) ? e.fd.name : failedOpenPath(e);
    return n && e.fd?.type !== 'directory' ? path.posix.basename(n) : undefined;
  }),
  def('fd.ino', 'uint64', 'Inode number.', (e) => e.fd?.ino),
  def('fd.dev', 'uint32', 'Device number.', (e) => e.fd?.dev),
  def('fd.cip', 'ipaddr', 'Client IP.', (e) => (isIp(e.fd) ? e.fd.cip : undefined)),
  def('fd.sip', 'ipaddr', 'Server IP.', (e) => (isIp(e.fd) ? e.fd.sip : undefined)),
  def('fd.lip', 'ipaddr', 'Local IP.', (e) => (isIp(e.fd) ? localIp(e.fd) : undefined)),
  def('fd.rip', 'ipaddr', 'Remote IP.', (e) => (isIp(e.fd) ? remoteIp(e.fd) : undefined)),
  def('fd.ip', 'ipaddr', 'Either end matches (client or server IP).', (e) => (isIp(e.fd) ? both(e.fd.cip, e.fd.sip) : undefined), { eitherEnd: true }),
  def('fd.cport', 'port', 'Client port.', (e) => (isIp(e.fd) ? e.fd.cport : undefined)),
  def('fd.sport', 'port', 'Server port.', (e) => (isIp(e.fd) ? e.fd.sport : undefined)),
  def('fd.lport', 'port', 'Local port.', (e) => (isIp(e.fd) ? localPort(e.fd) : undefined)),
  def('fd.rport', 'port', 'Remote port.', (e) => (isIp(e.fd) ? remotePort(e.fd) : undefined)),
  def('fd.port', 'port', 'Either end matches (client or server port).', (e) => (isIp(e.fd) ? both(e.fd.cport, e.fd.sport) : undefined), { eitherEnd: true }),
  def('fd.net', 'ipnet', 'Either end is in the network.', (e) => (isIp(e.fd) ? both(e.fd.cip, e.fd.sip) : undefined), { eitherEnd: true }),
  def('fd.cnet', 'ipnet', 'Client IP is in the network.', (e) => (isIp(e.fd) ? e.fd.cip : undefined)),
  def('fd.snet', 'ipnet', 'Server IP is in the network.', (e) => (isIp(e.fd) ? e.fd.sip : undefined)),
  def('fd.lnet', 'ipnet', 'Local IP is in the network.', (e) => (isIp(e.fd) ? localIp(e.fd) : undefined)),
  def('fd.rnet', 'ipnet', 'Remote IP is in the network.', (e) => (isIp(e.fd) ? remoteIp(e.fd) : undefined)),
  def('fd.l4proto', 'charbuf', 'Transport protocol: tcp, udp, icmp, raw.', (e) => (isIp(e.fd) ? e.fd.l4proto : undefined)),
  def('fd.sockfamily', 'charbuf', 'Socket family: ip or unix.', (e) => (isIp(e.fd) ? 'ip' : e.fd?.type === 'unix' ? 'unix' : undefined)),
  def('fd.is_server', 'bool', 'This process is the server end.', (e) => (isIp(e.fd) ? e.fd.isServer ?? false : undefined)),
  def('fd.connected', 'bool', 'The socket is connected.', (e) => (e.fd && (isIp(e.fd) || e.fd.type === 'unix') ? e.fd.connected ?? false : undefined)),
  def('fd.name_changed', 'bool', 'This event changed the descriptor name (a sendto to a new peer).', (e) => e.args.name_changed === 1),
  def('fd.sip.name', 'charbuf', 'Domain name the server IP was resolved from, when known.', (e) => (isIp(e.fd) ? e.fd.sipName : undefined)),
  def('fd.cip.name', 'charbuf', 'Domain name of the client IP (not available).', () => undefined),
  listDef('fd.types', 'charbuf', 'Types of the process file descriptors; fd.types[N] for descriptor N.', (e, arg) => {
    const fds = e.thread.fds;
    if (!fds) return undefined;
    if (arg !== undefined) {
      const fd = fds.get(Number(arg));
      return fd ? [fd.type] : undefined;
    }
    return [...new Set([...fds.values()].map((f) => f.type))];
  }, { arg: INDEX_ARG }),
];

function both<T>(a: T | undefined, b: T | undefined): T[] | undefined {
  const out = [a, b].filter((x): x is T => x !== undefined);
  return out.length ? out : undefined;
}

function strArg(e: E, name: string): string | undefined {
  const v = e.args[name];
  return typeof v === 'string' ? v : undefined;
}

/** A failed open has no descriptor; Falco still names the path it tried (resolved against cwd). */
function failedOpenPath(e: E): string | undefined {
  if (!OPEN_TYPES.has(e.type)) return undefined;
  const name = strArg(e, 'name') ?? strArg(e, 'path');
  if (name === undefined) return undefined;
  return path.posix.isAbsolute(name) ? path.posix.normalize(name) : path.posix.join(e.thread.cwd, name);
}

let HOSTNAME = process.env.FALCO_HOSTNAME ?? '';
/** evt.hostname: set once by the pipeline from its configured hostname. */
export function setEventHostname(name: string): void {
  HOSTNAME = name;
}

export const syscallFields: FieldTable<SyscallEvent> = fieldTable('syscall', [...evtFields, ...procFields, ...userFields, ...fdFields, ...containerFields]);

