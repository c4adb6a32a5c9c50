import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const ROOT = new URL('../../', import.meta.url).pathname;
const TOOLS = process.env.PEREGRINE_TOOLS ?? '/opt/peregrine-tools';

/** A tool the deploy checks need; a missing one fails the test with how to get it. */
export function tool(name: 'helm' | 'docker-compose'): string {
  const candidates = name === 'helm' ? [`${TOOLS}/bin/helm`, '/usr/local/bin/helm'] : ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not installed: run scripts/setup.sh --test`);
  return found;
}

export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function helmTemplate(args: string[] = []): string {
  return execFileSync(tool('helm'), ['template', 'prg', 'charts/peregrine', ...args], { cwd: ROOT, encoding: 'utf8' });
}
