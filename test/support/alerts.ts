import type { FalcoAlert } from '../../src/alert/alert.ts';
import { parseAlert } from '../../src/router/input.ts';

/** A Falco JSON alert as Falco's http_output sends it; override any key. */
export function falcoAlert(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    output: '10:20:05.408091526: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow user=root command=cat /etc/shadow)',
    priority: 'Warning',
    rule: 'Read sensitive file untrusted',
    time: '2026-11-22T10:20:05.408091526Z',
    output_fields: { 'fd.name': '/etc/shadow', 'proc.cmdline': 'cat /etc/shadow', 'user.name': 'root', 'proc.pid': 4242, 'proc.aname[2]': 'bash' },
    source: 'syscall',
    tags: ['filesystem', 'mitre_credential_access'],
    hostname: 'node-1',
    ...over,
  };
}

export async function postAlert(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The same alert after the router's input validation (uuid assigned, priority parsed). */
export function parsedAlert(over: Record<string, unknown> = {}): FalcoAlert {
  const r = parseAlert(falcoAlert(over));
  if (!r.ok) throw new Error(`test alert rejected: ${r.error}`);
  return r.alert;
}
