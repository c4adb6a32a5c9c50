import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary, startProcess, stopProcess, waitForPort } from './process.ts';

/** A real nats-server on loopback (JetStream enabled); stop() and start() again keep port and storage. */
export class NatsServer {
  readonly port: number;
  private child: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'prg-nats-'));
  private readonly args: readonly string[];
  private constructor(port: number, args: readonly string[] = []) { this.port = port; this.args = args; }

  get url(): string { return `nats://127.0.0.1:${this.port}`; }

  /** `args`: more nats-server flags, e.g. --tls --tlscert … --tlsverify. */
  static async start(args: readonly string[] = []): Promise<NatsServer> {
    const s = new NatsServer(await freePort(), args);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const bin = requireBinary('nats-server', ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']);
    const p = startProcess(bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.args]);
    this.child = p.child;
    try {
      await waitForPort(this.port, 10000, 'nats-server', p.child);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${p.output()}`);
    }
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
    this.child = undefined;
  }
}
