/**
 * The native addon (native/binding.gyp -> native/build/Release/peregrine.node), loaded lazily so that a
 * build without it still imports this module and reports why capture is off.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface AddonLayout {
  /** Kernel event type names by enum pg_event_type index: "none", the syscalls.def names, "clone", "exec", "exit", "cgroup". */
  names: string[];
  headerSize: number;
  statCount: number;
  typeBase: number;
  cgNameMax: number;
  tupleSize: number;
}

export interface AddonStartOptions {
  selfPid: number;
  ringBytes: number;
  wakeupBytes: number;
  pollMs: number;
  batchBytes: number;
  /** syscalls.def names whose tracepoint programs to load and attach. */
  enable: string[];
  onBatch(batch: Buffer): void;
}

export interface AddonStartResult {
  attached: string[];
  failed: { name: string; error: string }[];
  tracefsMounted: boolean;
}

export interface Addon {
  layout: AddonLayout;
  start(opts: AddonStartOptions): AddonStartResult;
  stop(): Promise<void>;
  /** Per-CPU sums of the kernel counters, by enum pg_stat index. */
  stats(): number[];
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ns. */
  clockOffset(): bigint;
  flush(): void;
  /** Records taken off the ring that never reached JS (out of memory, refused at stop), by event type index. */
  lost(): number[];
}

export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/peregrine.node', import.meta.url));

let cached: Addon | undefined;
let loadError: string | undefined;

export function loadAddon(): { ok: true; addon: Addon } | { ok: false; reason: string } {
  if (cached) return { ok: true, addon: cached };
  if (loadError) return { ok: false, reason: loadError };
  if (!existsSync(ADDON_PATH)) {
    loadError = `the eBPF addon is not built (${ADDON_PATH} is missing; run npm run build:native)`;
    return { ok: false, reason: loadError };
  }
  try {
    cached = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    return { ok: true, addon: cached };
  } catch (e) {
    loadError = `the eBPF addon failed to load: ${(e as Error).message}`;
    return { ok: false, reason: loadError };
  }
}
