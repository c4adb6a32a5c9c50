import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The UI store's thread runs under Linux's SCHED_IDLE policy: it gets a core only when no other thread of
 * the machine wants it, and a waking router thread takes the core from it at once. Its work (inserting the
 * last 100 ms of alerts, answering the UI's queries) can wait; an alert on its way to Slack or a webhook
 * should not wait behind it. With nice levels the kernel still let a 3-5 ms insert batch hold a core while
 * the router's thread had a response to read (bench/README.md). Under a CPU that is busy for good the
 * store falls behind (the ui output's alerts wait in the spool) and catches up when the CPU frees.
 *
 * Node has no call for scheduling policies; `chrt` (util-linux, on every Debian-based image) sets it for
 * this thread's kernel id. Where it is missing or refused, the thread gets nice 19 instead.
 */
export async function lowerThisThread(): Promise<'idle' | 'nice' | 'unchanged'> {
  const tid = kernelThreadId();
  if (tid === undefined) return 'unchanged';
  const idle = await new Promise<boolean>((resolve) => {
    execFile('chrt', ['--idle', '-p', '0', String(tid)], { timeout: 5000 }, (err) => resolve(!err));
  });
  if (idle) return 'idle';
  try {
    setPriority(tid, 19);
    return 'nice';
  } catch {
    return 'unchanged';
  }
}

/** The calling thread's id in the kernel (Linux), from /proc/thread-self -> "<pid>/task/<tid>". */
export function kernelThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
