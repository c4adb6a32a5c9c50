import { randomUUID } from 'node:crypto';
import type { FalcoAlert } from '../../src/alert/alert.ts';
import { PRIORITIES, type Priority } from '../../src/alert/priority.ts';

/** Rules, hosts and tags the seeded alerts draw from (Falco's default rule names). */
export const SEED_RULES = [
  'Read sensitive file untrusted', 'Terminal shell in container', 'Write below etc', 'Launch Privileged Container',
  'Contact K8S API Server From Container', 'Modify binary dirs', 'Clear Log Activities', 'Netcat Remote Code Execution in Container',
  'Search Private Keys or Passwords', 'Drop and execute new binary in container', 'Create Symlink Over Sensitive Files', 'Redirect STDOUT/STDIN to Network Connection in Container',
];
export const SEED_HOSTS = ['node-1', 'node-2', 'node-3', 'build-7', 'db-primary'];
const TAGS = ['filesystem', 'container', 'shell', 'network', 'mitre_execution', 'mitre_credential_access', 'k8s', 'process'];
const PROCS = ['cat', 'bash', 'sh', 'nc', 'curl', 'python3', 'vim', 'find', 'grep', 'ln'];
const FILES = ['/etc/shadow', '/etc/passwd', '/etc/sudoers', '/root/.ssh/id_rsa', '/usr/bin/ls', '/var/log/syslog'];

/** A small deterministic generator (mulberry32), so a seed gives the same alerts every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` alerts spread evenly over [fromMs, toMs), with varied priorities (skewed towards the lower ones,
 * as real alert streams are), rules, hosts, containers and tags.
 */
export function seedAlerts(count: number, fromMs: number, toMs: number, seed = 1): FalcoAlert[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out: FalcoAlert[] = [];
  const step = (toMs - fromMs) / count;
  for (let i = 0; i < count; i++) {
    const t = Math.floor(fromMs + i * step);
    const priority: Priority = PRIORITIES[Math.min(7, Math.floor(-Math.log(1 - rnd() * 0.999) * 1.6))]!;
    const rule = pick(SEED_RULES);
    const proc = pick(PROCS);
    const file = pick(FILES);
    const inContainer = rnd() < 0.6;
    const containerId = inContainer ? `c0ffee${Math.floor(rnd() * 20).toString(16).padStart(6, '0')}` : 'host';
    const tags = [...new Set([pick(TAGS), pick(TAGS)])].sort();
    const ns = String(Math.floor(rnd() * 1e6)).padStart(6, '0');
    out.push({
      uuid: randomUUID(),
      time: `${new Date(t).toISOString().slice(0, -1)}${ns}Z`,
      priority, rule, source: rule.includes('K8S') ? 'k8s_audit' : 'syscall',
      hostname: pick(SEED_HOSTS), tags,
      output: `${rule} (user=root command=${proc} ${file} file=${file} container_id=${containerId} pid=${1000 + i})`,
      output_fields: {
        'proc.name': proc, 'fd.name': file, 'user.name': 'root', 'proc.pid': 1000 + i,
        'container.id': containerId, 'container.name': inContainer ? `app-${containerId.slice(-2)}` : 'host',
      },
    });
  }
  return out;
}
