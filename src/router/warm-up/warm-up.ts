import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { PeregrineConfig } from '../../config/schema.ts';
import type { Logger } from '../../log.ts';
import type { OutputDefinition } from '../output.ts';
import { createRouter } from '../router.ts';

export interface WarmUpResult {
  /** Output instances warmed: those whose type offers warmUpAt (the others are left out of the warm-up). */
  outputs: string[];
  /** Warm-up alerts the private router acknowledged. */
  accepted: number;
  /** Warm-up alerts the private receiver got (over all warmed outputs). */
  delivered: number;
  ms: number;
}

/** A Falco alert of the usual size and shape; only ever sent to the warm-up's own router and receiver. */
const WARM_ALERT = JSON.stringify({
  output: '12:00:00.000000000: Warning Shell spawned in a container (user=root container=warm-up shell=sh parent=runc cmdline=sh -c true)',
  priority: 'Warning', rule: 'Terminal shell in container', source: 'syscall', hostname: 'peregrine-warm-up',
  time: '2026-01-01T12:00:00.000000000Z', tags: ['container', 'shell', 'mitre_execution'],
  output_fields: {
    'evt.time': 1767268800123456789, 'proc.name': 'sh', 'proc.cmdline': 'sh -c true', 'proc.pid': 4242,
    'user.name': 'root', 'container.id': '0123456789ab', 'container.name': 'warm-up', 'k8s.ns.name': null,
  },
});

/**
 * Runs alerts through a throwaway copy of the router before the real one takes input. A freshly started Node
 * process is slow on its first alerts (the HTTP input, the spool, the delivery loop, undici and node:http are
 * compiled by V8 on first use: 2-27 ms per webhook send for the first ~25), and at 1,000 alerts/s that start
 * leaves a backlog behind it (bench/README.md). V8 keeps what it learned per function, not per router, so the
 * real router starts with that code warm.
 *
 * Everything it touches is private and thrown away: the copy listens on 127.0.0.1 (a free port, TLS and the
 * web UI off), spools into a temporary directory, has its own metrics, and its outputs are the configured HTTP
 * outputs aimed at an HTTP server of its own on 127.0.0.1 that answers 200 (`warmUpAt`; outputs of other types
 * are left out). The user's destinations, spool, metrics and UI store see nothing of it. Bounded by
 * `deadlineMs`; a failure is logged and the router starts cold, as without it.
 */
export async function warmUp(config: PeregrineConfig, registry: readonly OutputDefinition[],
  opts: { alerts?: number; deadlineMs?: number; log?: Logger } = {}): Promise<WarmUpResult> {
  const started = performance.now();
  const alerts = opts.alerts ?? 400;
  const deadline = Date.now() + (opts.deadlineMs ?? 2000);
  const result: WarmUpResult = { outputs: [], accepted: 0, delivered: 0, ms: 0 };
  const receiver = await loopbackReceiver();
  const receiverUrl = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/`;
  const warmable = registry.filter((d) => d.warmUpAt).map((d): OutputDefinition => ({
    ...d,
    create: (c, ctx) => d.create(d.warmUpAt!(c, receiverUrl), ctx),
  }));
  const dir = mkdtempSync(join(tmpdir(), `peregrine-warm-up-${process.pid}-`));
  try {
    const router = await createRouter(privateConfig(config, warmable, dir), { registry: warmable, processMetrics: false });
    try {
      result.outputs = router.outputs.map((o) => o.name);
      const { port } = await router.listen();
      const client = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (config.authtoken) headers.authorization = `Bearer ${config.authtoken}`;
      let next = 0;
      // A few requests at a time, as a client with several connections sends.
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (next < alerts && Date.now() < deadline) {
          next++;
          const r = await client.request({ path: '/', method: 'POST', headers, body: WARM_ALERT });
          await r.body.dump();
          if (r.statusCode === 200) result.accepted++;
        }
      }));
      await client.close();
      const expected = result.accepted * result.outputs.length;
      while (receiver.count() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    } finally {
      await router.close({ drainMs: 0 });
    }
  } catch (err) {
    opts.log?.warn({ err: (err as Error).message }, 'warm-up failed; the router starts without it');
  } finally {
    result.delivered = receiver.count();
    rmSync(dir, { recursive: true, force: true });
    receiver.server.closeAllConnections();
    await new Promise((r) => receiver.server.close(r));
  }
  result.ms = performance.now() - started;
  return result;
}

/** The user's config with everything the copy could reach outside this process replaced by private stand-ins. */
function privateConfig(config: PeregrineConfig, warmable: readonly OutputDefinition[], spoolDir: string): PeregrineConfig {
  const types = new Set(warmable.map((d) => d.type));
  const c: Record<string, unknown> = {
    ...config,
    listenaddress: '127.0.0.1', listenport: 0, debug: false,
    tlsserver: { ...config.tlsserver, deploy: false, mutualtls: false },
    spool: { ...config.spool, dir: spoolDir },
    outputs: config.outputs.filter((o) => types.has((o as { type: string }).type)).map(unfiltered),
  };
  for (const d of warmable) {
    const parents = d.configPath.slice(0, -1);
    const leaf = d.configPath.at(-1)!;
    let at = c;
    for (const k of parents) at = at[k] = { ...(at[k] as Record<string, unknown>) };
    if (at[leaf]) at[leaf] = unfiltered(at[leaf] as Record<string, unknown>);
  }
  if (c.ui) c.ui = { ...(c.ui as Record<string, unknown>), enabled: false };
  return c as PeregrineConfig;
}

/** Every warm-up alert reaches every warmed output at once: no filter, no rate limit, no retries. */
function unfiltered<T>(block: T): T {
  const b = block as Record<string, unknown> & { delivery?: Record<string, unknown> };
  // mutualtls off: the warm-up's receiver is plain HTTP on loopback, and needs no client certificate files.
  return { ...b, minimumpriority: undefined, rules: [], tags: [], sources: [], mutualtls: false,
    delivery: { ...b.delivery, ratepersecond: 0, maxretries: 0, timeoutms: 1000 } } as T;
}

function loopbackReceiver(): Promise<{ server: Server; count: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, count: () => n }));
  });
}
