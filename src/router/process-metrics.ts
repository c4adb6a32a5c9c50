import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';

/**
 * Process metrics under the names Falcosidekick's Go collector exposes, so dashboards built on them work:
 * prom-client's defaults give process_cpu_seconds_total, process_open_fds, process_max_fds,
 * process_resident_memory_bytes, process_virtual_memory_bytes, process_start_time_seconds (and nodejs_*);
 * the ones only Go's collector has are read from /proc at scrape time. Go's go_* runtime metrics have no
 * Node counterpart and are not imitated.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  if (!readable('/proc/self/limits')) return;
  new Gauge({
    name: 'process_virtual_memory_max_bytes', help: 'Maximum amount of virtual memory available in bytes.', registers: [registry],
    collect() { this.set(addressSpaceLimit()); },
  });
  // Go's collector sums every interface of the process's network namespace (/proc/<pid>/net/dev).
  for (const [name, column, help] of [
    ['process_network_receive_bytes_total', 0, 'Number of bytes received by the process over the network.'],
    ['process_network_transmit_bytes_total', 8, 'Number of bytes sent by the process over the network.'],
  ] as const) {
    new Counter({
      name, help, registers: [registry],
      collect() {
        const total = netDevTotal(column);
        this.reset();
        if (total !== undefined) this.inc(total);
      },
    });
  }
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The soft "Max address space" limit; unlimited is 2^64-1, as Go reports it. */
function addressSpaceLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max address space'));
  const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
  return soft === undefined || soft === 'unlimited' ? 2 ** 64 - 1 : Number(soft);
}

/** Sum of one /proc/self/net/dev column (0 = received bytes, 8 = transmitted bytes) over all interfaces. */
function netDevTotal(column: number): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/net/dev', 'utf8');
  } catch {
    return undefined;
  }
  let sum = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    sum += Number(line.slice(colon + 1).trim().split(/\s+/)[column] ?? 0);
  }
  return sum;
}
