import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));

/** The real CLI, `bin/peregrine <args>`, run to completion: exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `peregrine route -c FILE` as a child process (the real CLI), ready once it logged its port. Tests kill it
 * with SIGKILL (a crash) or SIGTERM (a shutdown) and time the exit.
 */
export class RouteProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  /** What the process wrote to stderr, as it came. */
  readonly stderr: { text: string };
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, url: string, logs: Record<string, unknown>[], stderr: { text: string }, exited: Promise<number | null>) {
    this.child = child;
    this.url = url;
    this.logs = logs;
    this.stderr = stderr;
    this.exited = exited;
  }

  /**
   * `asInstalled`: run the file itself, as users and the Dockerfile do, so the node flags of its #! line apply
   * (by default it runs under this test's node, without them).
   */
  static async start(configFile: string, timeoutMs = 20_000, { asInstalled = false } = {}): Promise<RouteProcess> {
    const [cmd, args] = asInstalled ? [BIN, ['route', '-c', configFile]] : [process.execPath, [BIN, 'route', '-c', configFile]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEREGRINE_LOG_LEVEL: 'info' } });
    const logs: Record<string, unknown>[] = [];
    const stderr = { text: '' };
    const raw: string[] = [];
    let rest = '';
    let port = 0;
    let ready: () => void = () => {};
    const listening = new Promise<void>((r) => { ready = r; });
    const onData = (b: Buffer) => {
      const parts = (rest + b.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        raw.push(line);
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          logs.push(rec);
          if (rec.msg === 'router listening') {
            port = Number(rec.port);
            ready();
          }
        } catch { /* not JSON */ }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => { stderr.text += b.toString('utf8'); onData(b); });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { ready(); r(code); }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([listening, new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
    if (!port) {
      child.kill('SIGKILL');
      throw new Error(`peregrine route did not listen within ${timeoutMs} ms:\n${raw.slice(-40).join('\n')}`);
    }
    return new RouteProcess(child, `http://127.0.0.1:${port}`, logs, stderr, exited);
  }

  /** A crash: SIGKILL, nothing gets to run. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM; the exit code and how long the process took to exit. */
  async term(limitMs = 30_000): Promise<{ code: number | null; ms: number }> {
    const t0 = performance.now();
    this.child.kill('SIGTERM');
    const guard = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    const code = await this.exited;
    clearTimeout(guard);
    return { code, ms: performance.now() - t0 };
  }
}
