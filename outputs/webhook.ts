import { z } from 'zod';
import { stringifyJson } from '../src/alert/json.ts';
import { priorityTitle } from '../src/alert/priority.ts';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { defineOutput } from '../src/router/output.ts';
import { httpClient, sendJson } from './http.ts';

/**
 * The alert as Falcosidekick re-marshals it: Title-case priority, its uuid; tags and hostname left out when
 * empty (its JSON tags say omitempty); 64-bit integers exact.
 */
export function alertJson(a: FalcoAlert): string {
  const out: Record<string, unknown> = {
    uuid: a.uuid, output: a.output, priority: priorityTitle(a.priority), rule: a.rule, time: a.time,
    output_fields: a.output_fields, source: a.source,
  };
  if (a.tags.length > 0) out.tags = a.tags;
  if (a.hostname !== '') out.hostname = a.hostname;
  return stringifyJson(out);
}

/** Falcosidekick's rule: PUT in any case is PUT, every other value is POST. */
export function webhookMethod(configured: string): 'POST' | 'PUT' {
  return configured.trim().toUpperCase() === 'PUT' ? 'PUT' : 'POST';
}

export const webhookOutput = defineOutput({
  type: 'webhook',
  configPath: ['webhook'],
  schema: z.strictObject({
    address: z.string().default('').meta({ description: 'URL alerts are sent to; set it to enable the output.' }),
    method: z.string().default('POST').meta({ description: 'PUT (any case) sends PUT; anything else POST, as in Falcosidekick.' }),
    customheaders: z.record(z.string(), z.string()).default({}).meta({ description: 'Extra request headers (env: "k:v,k2:v2").' }),
    checkcert: z.boolean().default(true).meta({ description: 'Verify the server\'s TLS certificate.' }),
    cacertfile: z.string().default('').meta({ description: 'PEM file of CAs to trust in addition to the system ones.' }),
  }),
  isEnabled: (c) => c.address !== '',
  delivery: { adaptive: true },
  mutualTls: true,
  // Custom headers (tokens, often) are left out: the warm-up's server has no use for them.
  warmUpAt: (c, url) => ({ ...c, address: url, customheaders: {} }),
  create(c, ctx) {
    if (!/^https?:\/\//.test(c.address)) throw new Error(`webhook.address "${c.address}" is not an http(s) URL`);
    const method = webhookMethod(c.method);
    if (method !== c.method.trim().toUpperCase()) ctx.log.warn(`webhook.method "${c.method}": Falcosidekick sends POST for anything but PUT; so does Peregrine`);
    const client = httpClient(c, ctx);
    const headers = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Peregrine', ...c.customheaders };
    let target;
    try {
      target = client.target(c.address, method, headers);
    } catch (err) {
      // The message names the header, the URL or the proxy variable at fault.
      throw new Error(`webhook: ${(err as Error).message}`);
    }
    return {
      async send(alerts, signal) {
        for (const a of alerts) await sendJson(target, c.address, alertJson(a), signal);
      },
      close: () => client.close(),
    };
  },
});
