import type { ChildProcess } from 'node:child_process';
import { freePort, requireBinary, startProcess, stopProcess, waitForPort } from './process.ts';

const TOOLS = process.env.PEREGRINE_TOOLS ?? '/opt/peregrine-tools';

/** moto's server: an emulator speaking AWS's SNS and SQS protocols, on loopback. */
export class MotoServer {
  readonly port: number;
  private child: ChildProcess | undefined;
  private constructor(port: number) { this.port = port; }

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  static async start(): Promise<MotoServer> {
    const s = new MotoServer(await freePort());
    const bin = requireBinary('moto_server', [`${TOOLS}/moto/bin/moto_server`]);
    const p = startProcess(bin, ['-H', '127.0.0.1', '-p', String(s.port)]);
    s.child = p.child;
    try {
      await waitForPort(s.port, 30000, 'moto_server', p.child);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${p.output()}`);
    }
    return s;
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
  }
}
