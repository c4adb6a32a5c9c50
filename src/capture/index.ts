/**
 * Kernel capture (issue #5): eBPF programs on the sys_exit tracepoint of each syscall the rules need
 * (plus sched_process_fork/exec/exit for the process table), one shared ring buffer, batches into JS,
 * and a user-space process table that turns kernel records into SyscallEvents.
 */
import { existsSync } from 'node:fs';
import type { SyscallEvent } from '../engine/event.ts';
import { loadAddon, type Addon } from './addon.ts';
import { checkLayout, decodeBatch, type RawEvent } from './decode.ts';
import { CaptureState, type ContainerDirectory } from './state.ts';

export interface CaptureLog {
  info(o: object | string, m?: string): void;
  warn(o: object | string, m?: string): void;
}

export interface CaptureOptions {
  /** evt.type names the loaded rules need; undefined = every supported type. */
  eventTypes: Set<string> | undefined;
  onEvents(events: SyscallEvent[]): void;
  log: CaptureLog;
  ringBufferMB: number;
  /** Runtime metadata for containers (src/container/); without it container.* beyond the id read <NA>. */
  containers?: ContainerDirectory;
}

export interface Capture {
  /**
   * counters: events written to the ring per kind (and totals: events = written, received = decoded in JS,
   * delivered = handed to onEvents); drops: by cause (ringbuf_full and too_big in the kernel, addon_lost after the
   * ring); droppedByKind: the same drops per kind. Per kind, written + kernel drops is every event the kernel
   * saw, and written = received + addon_lost once the ring is drained.
   */
  stats(): { counters: Record<string, number>; drops: Record<string, number>; droppedByKind: Record<string, number> };
  stop(): Promise<void>;
  /** The evt.types this capture delivers: asked for and attached in the kernel (not what failed to attach). */
  readonly eventTypes: readonly string[];
}

/** Kernel event kinds (syscalls.def) that map one to one to an evt.type. */
const SYSCALL_TYPES = [
  'open', 'openat', 'openat2', 'creat', 'execve', 'execveat', 'close', 'dup', 'dup2', 'dup3', 'socket', 'connect',
  'accept', 'accept4', 'bind', 'listen', 'sendto', 'sendmsg', 'chdir', 'fchdir', 'chmod', 'fchmod', 'fchmodat',
  'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir', 'symlink', 'symlinkat', 'link',
  'linkat', 'ptrace', 'setuid', 'setgid', 'setns', 'unshare', 'mount', 'umount2', 'init_module', 'finit_module',
  'memfd_create', 'recvfrom', 'recvmsg', 'userfaultfd', 'bpf',
] as const;

/** evt.types this capture can deliver. */
export const SUPPORTED_EVENT_TYPES: ReadonlySet<string> = new Set([...SYSCALL_TYPES, 'clone', 'clone3', 'fork', 'vfork', 'procexit']);

/** evt.types whose kernel program (syscalls.def) has another name: the tracepoint of umount2(2) is sys_exit_umount. */
const KERNEL_NAME: Record<string, string> = { umount2: 'umount' };

/** Always attached: the process table follows the working directory (rare syscalls, cheap). */
const STATE_ALWAYS = ['chdir', 'fchdir'];
/** Types whose fd.name comes from an earlier open: asking for one of them also tracks file descriptors. */
const FD_CONSUMERS = new Set(['fchmod', 'dup', 'dup2', 'dup3', 'close', 'finit_module', 'setns']);
const FD_TRACKING = ['open', 'openat', 'openat2', 'creat', 'dup', 'dup2', 'dup3', 'close', 'memfd_create'];

/** Which kernel programs a set of wanted types needs (exec/fork/exit are always on). */
export function programsFor(types: ReadonlySet<string>): string[] {
  const out = new Set<string>(STATE_ALWAYS);
  for (const t of types) if ((SYSCALL_TYPES as readonly string[]).includes(t)) out.add(KERNEL_NAME[t] ?? t);
  if ([...types].some((t) => FD_CONSUMERS.has(t))) for (const t of FD_TRACKING) out.add(t);
  return [...out];
}

/** The kernel program that delivers an evt.type. */
function programOf(type: string): string {
  if (type === 'execve' || type === 'execveat') return 'on_exec';
  if (type === 'clone' || type === 'clone3' || type === 'fork' || type === 'vfork') return 'on_fork';
  if (type === 'procexit') return 'on_exit';
  return `sc_${KERNEL_NAME[type] ?? type}`;
}

/** The wanted evt.types whose kernel program is attached, in name order: what the capture really delivers. */
export function deliveredTypes(wanted: ReadonlySet<string>, attachedPrograms: readonly string[]): string[] {
  const attached = new Set(attachedPrograms);
  return [...wanted].filter((t) => attached.has(programOf(t))).sort();
}

export function captureAvailability(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, reason: `kernel capture needs Linux on x86-64 (this is ${process.platform}/${process.arch})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'kernel capture needs root (or CAP_BPF+CAP_PERFMON)' };
  if (!existsSync('/sys/kernel/btf/vmlinux')) return { ok: false, reason: 'the kernel has no BTF (/sys/kernel/btf/vmlinux is missing)' };
  const a = loadAddon();
  if (!a.ok) return { ok: false, reason: a.reason };
  return { ok: true };
}

const KIND_COUNTER: Record<string, string> = { exec: 'execve', clone: 'clone', exit: 'procexit', umount: 'umount2' };
const ST_SENT = 0, ST_DROP_RINGBUF_FULL = 1, ST_TRUNCATED = 2, ST_READ_FAILED = 3, ST_DROP_TOO_BIG = 4;

let running = false;

export async function startCapture(opts: CaptureOptions): Promise<Capture> {
  const a = loadAddon();
  if (!a.ok) throw new Error(a.reason);
  if (running) throw new Error('kernel capture is already running in this process');
  const addon: Addon = a.addon;
  checkLayout(addon.layout as Parameters<typeof checkLayout>[0]);
  const names = addon.layout.names;

  const requested = opts.eventTypes ?? SUPPORTED_EVENT_TYPES;
  const wanted = new Set<string>();
  const unsupported: string[] = [];
  for (const t of requested) (SUPPORTED_EVENT_TYPES.has(t) ? wanted.add(t) : unsupported.push(t));
  if (unsupported.length) opts.log.info({ unsupported }, 'event types the rules name that kernel capture does not produce');
  const want = (t: string) => wanted.has(t);

  const state = new CaptureState({ monoToEpoch: addon.clockOffset(), ...(opts.containers ? { containers: opts.containers } : {}) });
  const seeded = state.seedFromProc();
  let delivered = 0, received = 0, batches = 0, errors = 0;

  const onBatch = (buf: Buffer) => {
    batches++;
    const events: SyscallEvent[] = [];
    try {
      decodeBatch(buf, names, (r: RawEvent) => {
        received++;
        const e = state.handle(r, want);
        if (e) events.push(e);
      });
      state.endBatch();
    } catch (err) {
      errors++;
      opts.log.warn({ err: (err as Error).message }, 'kernel capture: a batch could not be decoded');
    }
    if (events.length === 0) return;
    delivered += events.length;
    try {
      opts.onEvents(events);
    } catch (err) {
      errors++;
      opts.log.warn({ err: (err as Error).message }, 'kernel capture: the event consumer threw');
    }
  };

  const enable = programsFor(wanted);
  const ringBytes = Math.max(1, opts.ringBufferMB) * 1024 * 1024;
  const started = addon.start({
    selfPid: process.pid,
    ringBytes,
    wakeupBytes: Math.min(256 * 1024, Math.floor(ringBytes / 8)),
    pollMs: 20,
    batchBytes: 512 * 1024,
    enable,
    onBatch,
  });
  running = true;
  for (const f of started.failed) opts.log.warn({ program: f.name, error: f.error }, 'kernel capture: a program did not attach');
  opts.log.info({ programs: started.attached.length, seededProcesses: seeded, tracefsMounted: started.tracefsMounted }, 'kernel capture attached');

  // Follow wall-clock adjustments (NTP steps) for event timestamps.
  const clock = setInterval(() => { state.monoToEpoch = addon.clockOffset(); }, 10_000);
  clock.unref();

  let stopped = false;
  const eventTypes = deliveredTypes(wanted, started.attached);
  return {
    eventTypes,
    stats() {
      const s = addon.stats();
      const lost = addon.lost();
      const counters: Record<string, number> = {
        events: s[ST_SENT] ?? 0, received, delivered, batches, truncated: s[ST_TRUNCATED] ?? 0, read_failed: s[ST_READ_FAILED] ?? 0, decode_errors: errors,
      };
      const droppedByKind: Record<string, number> = {};
      const base = addon.layout.typeBase;
      for (let i = 1; i < names.length; i++) {
        const k = KIND_COUNTER[names[i]!] ?? names[i]!;
        const sent = s[base + 2 * i] ?? 0;
        const dropped = (s[base + 2 * i + 1] ?? 0) + (lost[i] ?? 0);
        if (sent > 0) counters[k] = (counters[k] ?? 0) + sent;
        if (dropped > 0) droppedByKind[k] = (droppedByKind[k] ?? 0) + dropped;
      }
      const drops = { ringbuf_full: s[ST_DROP_RINGBUF_FULL] ?? 0, too_big: s[ST_DROP_TOO_BIG] ?? 0, addon_lost: lost.reduce((a, b) => a + b, 0) };
      return { counters, drops, droppedByKind };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(clock);
      await addon.stop();
      running = false;
    },
  };
}
