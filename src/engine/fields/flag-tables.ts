/**
 * Flag-typed syscall parameters as Falco's libs render them (evt.arg.X, evt.args) and hand them raw (evt.rawarg.X).
 * The driver converts kernel values into its own PPM encoding (driver/ppm_flag_helpers.h); libsinsp then names the
 * PPM bits from the parameter's table (driver/flags_table.c), in table order, with its matching rules
 * (sinsp_evt::get_param_as_str: PT_FLAGS*, PT_ENUMFLAGS*, PT_MODE). Events keep kernel values; this module does the
 * driver's conversion and libsinsp's naming. The tables below list libs' names with PPM values in libs' order.
 */

type Table = ReadonlyArray<readonly [name: string, ppm: number]>;

const bit = (n: number) => 2 ** n;

const FILE_FLAGS: Table = [
  ['O_LARGEFILE', bit(11)], ['O_DIRECTORY', bit(10)], ['O_DIRECT', bit(9)], ['O_TRUNC', bit(8)], ['O_SYNC', bit(7)],
  ['O_NONBLOCK', bit(6)], ['O_EXCL', bit(5)], ['O_DSYNC', bit(4)], ['O_APPEND', bit(3)], ['O_CREAT', bit(2)], ['O_RDWR', 3],
  ['O_WRONLY', bit(1)], ['O_RDONLY', bit(0)], ['O_CLOEXEC', bit(12)], ['O_NONE', 0], ['O_TMPFILE', bit(13)],
  ['O_F_CREATED', bit(14)], ['FD_UPPER_LAYER', bit(15)], ['FD_LOWER_LAYER', bit(16)],
];

const CHMOD_MODE: Table = [
  ['S_IXOTH', bit(0)], ['S_IWOTH', bit(1)], ['S_IROTH', bit(2)], ['S_IXGRP', bit(3)], ['S_IWGRP', bit(4)], ['S_IRGRP', bit(5)],
  ['S_IXUSR', bit(6)], ['S_IWUSR', bit(7)], ['S_IRUSR', bit(8)], ['S_ISVTX', bit(9)], ['S_ISGID', bit(10)], ['S_ISUID', bit(11)],
];

const CLONE_FLAGS: Table = [
  ['CLONE_FILES', bit(0)], ['CLONE_FS', bit(1)], ['CLONE_IO', bit(2)], ['CLONE_NEWIPC', bit(3)], ['CLONE_NEWNET', bit(4)],
  ['CLONE_NEWNS', bit(5)], ['CLONE_NEWPID', bit(6)], ['CLONE_NEWUTS', bit(7)], ['CLONE_PARENT', bit(8)],
  ['CLONE_PARENT_SETTID', bit(9)], ['CLONE_PTRACE', bit(10)], ['CLONE_SIGHAND', bit(11)], ['CLONE_SYSVSEM', bit(12)],
  ['CLONE_THREAD', bit(13)], ['CLONE_UNTRACED', bit(14)], ['CLONE_VM', bit(15)], ['CLONE_INVERTED', bit(16)],
  ['NAME_CHANGED', bit(17)], ['CLOSED', bit(18)], ['CLONE_NEWUSER', bit(20)], ['CLONE_CHILD_CLEARTID', bit(23)],
  ['CLONE_CHILD_SETTID', bit(24)], ['CLONE_SETTLS', bit(25)], ['CLONE_STOPPED', bit(26)], ['CLONE_VFORK', bit(27)],
  ['CLONE_NEWCGROUP', bit(28)], ['CLONE_CHILD_IN_PIDNS', bit(29)],
];

const SOCKET_FAMILIES: Table = [
  ['AF_NFC', 39], ['AF_ALG', 38], ['AF_CAIF', 37], ['AF_IEEE802154', 36], ['AF_PHONET', 35], ['AF_ISDN', 34], ['AF_RXRPC', 33],
  ['AF_IUCV', 32], ['AF_BLUETOOTH', 31], ['AF_TIPC', 30], ['AF_CAN', 29], ['AF_LLC', 26], ['AF_WANPIPE', 25], ['AF_PPPOX', 24],
  ['AF_IRDA', 23], ['AF_SNA', 22], ['AF_RDS', 21], ['AF_ATMSVC', 20], ['AF_ECONET', 19], ['AF_ASH', 18], ['AF_PACKET', 17],
  ['AF_ROUTE', 16], ['AF_NETLINK', 16], ['AF_KEY', 15], ['AF_SECURITY', 14], ['AF_NETBEUI', 13], ['AF_DECnet', 12],
  ['AF_ROSE', 11], ['AF_INET6', 10], ['AF_X25', 9], ['AF_ATMPVC', 8], ['AF_BRIDGE', 7], ['AF_NETROM', 6], ['AF_APPLETALK', 5],
  ['AF_IPX', 4], ['AF_AX25', 3], ['AF_INET', 2], ['AF_LOCAL', 1], ['AF_UNIX', 1], ['AF_UNSPEC', 0],
];

const MOUNT_FLAGS: Table = [
  ['RDONLY', bit(0)], ['NOSUID', bit(1)], ['NODEV', bit(2)], ['NOEXEC', bit(3)], ['SYNCHRONOUS', bit(4)], ['REMOUNT', bit(5)],
  ['MANDLOCK', bit(6)], ['DIRSYNC', bit(7)], ['NOATIME', bit(10)], ['NODIRATIME', bit(11)], ['BIND', bit(12)], ['MOVE', bit(13)],
  ['REC', bit(14)], ['SILENT', bit(15)], ['POSIXACL', bit(16)], ['UNBINDABLE', bit(17)], ['PRIVATE', bit(18)], ['SLAVE', bit(19)],
  ['SHARED', bit(20)], ['RELATIME', bit(21)], ['KERNMOUNT', bit(22)], ['I_VERSION', bit(23)], ['STRICTATIME', bit(24)],
  ['LAZYTIME', bit(25)], ['NOSEC', bit(28)], ['BORN', bit(29)], ['ACTIVE', bit(30)], ['NOUSER', bit(31)],
];

const UMOUNT_FLAGS: Table = [['FORCE', bit(0)], ['DETACH', bit(1)], ['EXPIRE', bit(2)], ['NOFOLLOW', bit(3)]];
const UNLINKAT_FLAGS: Table = [['AT_REMOVEDIR', 0x200]];
const LINKAT_FLAGS: Table = [['AT_SYMLINK_FOLLOW', 0x400], ['AT_EMPTY_PATH', 0x1000]];
const RENAMEAT2_FLAGS: Table = [['RENAME_NOREPLACE', bit(0)], ['RENAME_EXCHANGE', bit(1)], ['RENAME_WHITEOUT', bit(2)]];
const OPENAT2_FLAGS: Table = [
  ['RESOLVE_BENEATH', bit(0)], ['RESOLVE_IN_ROOT', bit(1)], ['RESOLVE_NO_MAGICLINKS', bit(2)], ['RESOLVE_NO_SYMLINKS', bit(3)],
  ['RESOLVE_NO_XDEV', bit(4)], ['RESOLVE_CACHED', bit(5)],
];
const MEMFD_CREATE_FLAGS: Table = [['MFD_CLOEXEC', bit(0)], ['MFD_ALLOW_SEALING', bit(1)], ['MFD_HUGETLB', bit(2)]];
const FINIT_MODULE_FLAGS: Table = [
  ['MODULE_INIT_IGNORE_MODVERSIONS', bit(0)], ['MODULE_INIT_IGNORE_VERMAGIC', bit(1)], ['MODULE_INIT_COMPRESSED_FILE', bit(2)],
];
const BPF_COMMANDS: Table = [
  'BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_MAP_UPDATE_ELEM', 'BPF_MAP_DELETE_ELEM', 'BPF_MAP_GET_NEXT_KEY', 'BPF_PROG_LOAD',
  'BPF_OBJ_PIN', 'BPF_OBJ_GET', 'BPF_PROG_ATTACH', 'BPF_PROG_DETACH', 'BPF_PROG_TEST_RUN', 'BPF_PROG_GET_NEXT_ID',
  'BPF_MAP_GET_NEXT_ID', 'BPF_PROG_GET_FD_BY_ID', 'BPF_MAP_GET_FD_BY_ID', 'BPF_OBJ_GET_INFO_BY_FD', 'BPF_PROG_QUERY',
  'BPF_RAW_TRACEPOINT_OPEN', 'BPF_BTF_LOAD', 'BPF_BTF_GET_FD_BY_ID', 'BPF_TASK_FD_QUERY', 'BPF_MAP_LOOKUP_AND_DELETE_ELEM',
  'BPF_MAP_FREEZE', 'BPF_BTF_GET_NEXT_ID', 'BPF_MAP_LOOKUP_BATCH', 'BPF_MAP_LOOKUP_AND_DELETE_BATCH', 'BPF_MAP_UPDATE_BATCH',
  'BPF_MAP_DELETE_BATCH', 'BPF_LINK_CREATE', 'BPF_LINK_UPDATE', 'BPF_LINK_GET_FD_BY_ID', 'BPF_LINK_GET_NEXT_ID',
  'BPF_ENABLE_STATS', 'BPF_ITER_CREATE', 'BPF_LINK_DETACH', 'BPF_PROG_BIND_MAP',
].flatMap((name, i): Array<readonly [string, number]> => (i === 10 ? [[name, 10], ['BPF_PROG_RUN', 10]] : [[name, i]]));

/** ptrace requests by kernel value (an enum: libs maps unknown requests to PTRACE_UNKNOWN). */
const PTRACE_REQUESTS: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSR', 4: 'PTRACE_POKETEXT', 5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSR', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP', 12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS',
  14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH', 17: 'PTRACE_DETACH', 18: 'PTRACE_GETFPXREGS',
  19: 'PTRACE_SETFPXREGS', 21: 'PTRACE_OLDSETOPTIONS', 24: 'PTRACE_SYSCALL', 25: 'PTRACE_GET_THREAD_AREA',
  26: 'PTRACE_SET_THREAD_AREA', 30: 'PTRACE_ARCH_PRCTL', 31: 'PTRACE_SYSEMU', 32: 'PTRACE_SYSEMU_SINGLESTEP',
  33: 'PTRACE_SINGLEBLOCK', 0x4200: 'PTRACE_SETOPTIONS', 0x4201: 'PTRACE_GETEVENTMSG', 0x4202: 'PTRACE_GETSIGINFO',
  0x4203: 'PTRACE_SETSIGINFO', 0x4204: 'PTRACE_GETREGSET', 0x4205: 'PTRACE_SETREGSET', 0x4206: 'PTRACE_SEIZE',
  0x4207: 'PTRACE_INTERRUPT', 0x4208: 'PTRACE_LISTEN', 0x4209: 'PTRACE_PEEKSIGINFO', 0x420a: 'PTRACE_GETSIGMASK',
  0x420b: 'PTRACE_SETSIGMASK',
};

// --- the driver's kernel -> PPM conversions (x86-64 kernel values) ---------------------------------------------

const O_WRONLY = 0o1, O_RDWR = 0o2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_NONBLOCK = 0o4000;
const O_DSYNC = 0o10000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;
const O_SYNC = 0o4010000, O_TMPFILE = 0o20200000;

/** open_flags_to_scap, including its quirks: any O_DSYNC bit reads as O_SYNC too, any O_DIRECTORY as O_TMPFILE. */
export function openFlagsToPpm(k: number): number {
  const acc = k & 3;
  let r = acc === O_WRONLY ? bit(1) : acc === O_RDWR ? 3 : bit(0);
  if (k & O_CREAT) r |= bit(2);
  if (k & O_TMPFILE) r |= bit(13);
  if (k & O_APPEND) r |= bit(3);
  if (k & O_DSYNC) r |= bit(4);
  if (k & O_EXCL) r |= bit(5);
  if (k & O_NONBLOCK) r |= bit(6);
  if (k & O_SYNC) r |= bit(7);
  if (k & O_TRUNC) r |= bit(8);
  if (k & O_DIRECT) r |= bit(9);
  if (k & O_DIRECTORY) r |= bit(10);
  if (k & O_LARGEFILE) r |= bit(11);
  if (k & O_CLOEXEC) r |= bit(12);
  return r >>> 0;
}

const CLONE_KERNEL: Array<[number, number]> = [
  [0x400, bit(0)], [0x200, bit(1)], [0x80000000, bit(2)], [0x08000000, bit(3)], [0x40000000, bit(4)], [0x20000, bit(5)],
  [0x20000000, bit(6)], [0x04000000, bit(7)], [0x8000, bit(8)], [0x100000, bit(9)], [0x2000, bit(10)], [0x800, bit(11)],
  [0x40000, bit(12)], [0x10000, bit(13)], [0x800000, bit(14)], [0x100, bit(15)], [0x10000000, bit(20)], [0x200000, bit(23)],
  [0x1000000, bit(24)], [0x80000, bit(25)], [0x4000, bit(27)], [0x02000000, bit(28)],
];

export function cloneFlagsToPpm(k: number): number {
  let r = 0;
  for (const [kb, pb] of CLONE_KERNEL) if ((k & kb) >>> 0 === kb) r += pb;
  return r >>> 0;
}

const RESOLVE_KERNEL: Array<[number, number]> = [[0x08, bit(0)], [0x10, bit(1)], [0x02, bit(2)], [0x04, bit(3)], [0x01, bit(4)], [0x20, bit(5)]];
function resolveToPpm(k: number): number {
  let r = 0;
  for (const [kb, pb] of RESOLVE_KERNEL) if (k & kb) r |= pb;
  return r;
}

function mountFlagsToPpm(k: number): number {
  return ((k & 0xffff0000) >>> 0) === 0xc0ed0000 ? (k & 0xffff) >>> 0 : k >>> 0;
}

const identity = (k: number) => k >>> 0;

// --- libsinsp's naming ------------------------------------------------------------------------------------------

/** PT_FLAGS*: every table entry whose bits are all set (0 only for 0), each bit named once, in table order. */
function flagsText(table: Table, initial: number): string {
  let val = initial;
  const names: string[] = [];
  for (const [name, v] of table) {
    if ((v === 0 && initial === 0) || (v !== 0 && ((val & v) >>> 0) === v && val !== 0)) {
      names.push(name);
      val = (val & ~v) >>> 0;
      if (v === initial) break;
    }
  }
  return names.join('|');
}

/** PT_ENUMFLAGS*: every entry equal to the value (aliases included: AF_LOCAL|AF_UNIX). */
function enumText(table: Table, value: number): string {
  return table.filter(([, v]) => v === value).map(([n]) => n).join('|');
}

/** PT_MODE: bits named in table order until an entry equals the whole value, which closes the list. */
function modeText(table: Table, initial: number): string {
  let val = initial;
  const names: string[] = [];
  let i = 0;
  for (; i < table.length && table[i]![1] !== initial; i++) {
    const v = table[i]![1];
    if ((v === 0 && initial === 0) || (v !== 0 && ((val & v) >>> 0) === v && val !== 0)) {
      names.push(table[i]![0]);
      val = (val & ~v) >>> 0;
    }
  }
  if (i < table.length) names.push(table[i]![0]);
  return names.join('|');
}

const octal = (v: number) => (v === 0 ? '0' : `0${(v >>> 0).toString(8)}`);
const hex = (v: number) => (v >>> 0).toString(16).toUpperCase();

type Spec =
  | { kind: 'flags' | 'enum' | 'mode'; table: Table; toPpm: (k: number) => number }
  | { kind: 'oct' | 'hex' };

const flags = (table: Table, toPpm = identity): Spec => ({ kind: 'flags', table, toPpm });
const enumOf = (table: Table, toPpm = identity): Spec => ({ kind: 'enum', table, toPpm });
const mode: Spec = { kind: 'mode', table: CHMOD_MODE, toPpm: (k) => (k & 0o7777) >>> 0 };
const OCT: Spec = { kind: 'oct' };
const HEX: Spec = { kind: 'hex' };
const openFlags = flags(FILE_FLAGS, openFlagsToPpm);
const clone = flags(CLONE_FLAGS, cloneFlagsToPpm);

/** The flag-, mode- and format-typed parameters of every event type the capture produces, per libs' event table. */
const PARAMS: Record<string, Record<string, Spec>> = {
  open: { flags: openFlags, mode: OCT },
  openat: { flags: openFlags, mode: OCT },
  openat2: { flags: openFlags, mode: OCT, resolve: flags(OPENAT2_FLAGS, resolveToPpm) },
  creat: { mode: OCT },
  socket: { domain: enumOf(SOCKET_FAMILIES) },
  accept4: { flags: HEX },
  dup3: { flags: openFlags },
  chmod: { mode }, fchmod: { mode }, fchmodat: { mode },
  mkdir: { mode: HEX }, mkdirat: { mode: HEX },
  unlinkat: { flags: flags(UNLINKAT_FLAGS) },
  linkat: { flags: flags(LINKAT_FLAGS) },
  renameat2: { flags: flags(RENAMEAT2_FLAGS) },
  clone: { flags: clone }, clone3: { flags: clone }, fork: { flags: clone }, vfork: { flags: clone },
  setns: { nstype: clone },
  unshare: { flags: clone },
  mount: { flags: flags(MOUNT_FLAGS, mountFlagsToPpm) },
  umount2: { flags: flags(UMOUNT_FLAGS) },
  memfd_create: { flags: flags(MEMFD_CREATE_FLAGS) },
  finit_module: { flags: flags(FINIT_MODULE_FLAGS) },
  // The driver stores userfaultfd's flags unconverted, and libs names them from the open-flags table.
  userfaultfd: { flags: flags(FILE_FLAGS) },
  bpf: { cmd: enumOf(BPF_COMMANDS) },
};

/** The value evt.rawarg gives for a numeric parameter: the driver's PPM encoding for flag types. */
export function rawParam(type: string, name: string, kernel: number): number {
  const s = PARAMS[type]?.[name];
  return s && 'toPpm' in s ? s.toPpm(kernel) : kernel;
}

/**
 * libsinsp's text for a numeric parameter: `resolved` is the names (empty when none apply), `plain` the number
 * as its print format gives it. evt.arg shows the names when there are some, else the number.
 */
export function paramText(type: string, name: string, kernel: number): { plain: string; resolved: string } | undefined {
  if (type === 'ptrace' && name === 'request') return { plain: String(kernel), resolved: PTRACE_REQUESTS[kernel] ?? 'PTRACE_UNKNOWN' };
  const s = PARAMS[type]?.[name];
  if (!s) return undefined;
  if (s.kind === 'oct') return { plain: octal(kernel), resolved: '' };
  if (s.kind === 'hex') return { plain: hex(kernel), resolved: '' };
  if (!('toPpm' in s)) return undefined;
  const v = s.toPpm(kernel);
  if (s.kind === 'mode') return { plain: octal(v), resolved: modeText(s.table, v) };
  return { plain: String(v), resolved: s.kind === 'enum' ? enumText(s.table, v) : flagsText(s.table, v) };
}
