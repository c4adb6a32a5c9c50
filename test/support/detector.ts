import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));

/** What `peregrine run` printed: JSON alerts on stdout, pino log records on stderr. */
export interface DetectorProcess {
  child: ChildProcess;
  /** Router port (HTTP input, /k8s-audit, /metrics). */
  port: number;
  url: string;
  /** Alerts printed on stdout so far (json output). */
  alerts: Record<string, unknown>[];
  logs: Record<string, unknown>[];
  /** Set once the log says whether kernel capture started. */
  captureOff: string | undefined;
  /** SIGTERM, then the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  output(): string;
}

/**
 * Runs the real CLI (`bin/peregrine run -c <config> -r …`) as a child process, with JSON alerts on
 * stdout, and waits until it reports its port and whether capture started.
 */
export async function startDetector(opts: { config: string; rules?: string[]; timeoutMs?: number }): Promise<DetectorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-e2e-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, `listenaddress: 127.0.0.1\nlistenport: 0\n${opts.config}`);
  const args = [BIN, 'run', '-c', configFile, ...(opts.rules ?? []).flatMap((r) => ['-r', r])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEREGRINE_LOG_LEVEL: 'info' } });
  const alerts: Record<string, unknown>[] = [];
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void) => {
    let rest = '';
    stream.on('data', (b: Buffer) => {
      const parts = (rest + b.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim() !== '') each(p);
    });
  };
  let port = 0;
  let captureOff: string | undefined;
  let ready = false;
  let readyResolve: () => void = () => {};
  const readyPromise = new Promise<void>((r) => { readyResolve = r; });
  lines(child.stdout!, (l) => { raw.push(l); try { alerts.push(JSON.parse(l)); } catch { /* a text line: kept in raw */ } });
  lines(child.stderr!, (l) => {
    raw.push(l);
    if (raw.length > 400) raw.splice(0, raw.length - 400);
    let rec: Record<string, unknown>;
    try { rec = JSON.parse(l); } catch { return; }
    logs.push(rec);
    if (rec.msg === 'router listening') port = Number(rec.port);
    if (typeof rec.msg === 'string' && rec.msg.startsWith('kernel capture is off')) { captureOff = rec.msg; ready = true; }
    if (rec.msg === 'kernel capture started') ready = true;
    if (ready && port) readyResolve();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    readyResolve();
    r(code);
  }));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([readyPromise, new Promise((r) => { timer = setTimeout(r, timeoutMs); })]);
  clearTimeout(timer);
  const output = () => raw.join('\n');
  if (!ready || !port) {
    child.kill('SIGKILL');
    throw new Error(`peregrine run did not become ready within ${timeoutMs} ms (exit code ${child.exitCode}):\n${output()}`);
  }
  return {
    child, port, url: `http://127.0.0.1:${port}`, alerts, logs, output,
    get captureOff() { return captureOff; },
    async stop(stopTimeoutMs = 20_000) {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
