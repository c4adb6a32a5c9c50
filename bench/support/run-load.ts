import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { LoadResult, LoadSpec } from './load.ts';

/** Runs the load generator (load.ts) on a worker thread of this process and resolves with what it saw. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./load.ts', import.meta.url), { workerData: spec });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/** CPU time (user + system, all threads) a process has used so far, in seconds, from /proc. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
