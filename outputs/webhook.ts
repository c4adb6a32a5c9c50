import { z } from 'zod';
import { priorityTitle } from '../src/alert/priority.ts';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { defineOutput } from '../src/router/output.ts';
import { httpAgent, sendJson } from './http.ts';

/** The alert as Falcosidekick re-marshals it: Title-case priority, its uuid. */
export function alertJson(a: FalcoAlert): string {
  return JSON.stringify({
    uuid: a.uuid, output: a.output, priority: priorityTitle(a.priority), rule: a.rule, time: a.time,
    output_fields: a.output_fields, source: a.source, tags: a.tags, hostname: a.hostname,
  });
}

export const webhookOutput = defineOutput({
  type: 'webhook',
  configPath: ['webhook'],
  schema: z.strictObject({
    address: z.string().default('').meta({ description: 'URL alerts are sent to; set it to enable the output.' }),
    method: z.enum(['POST', 'PUT']).default('POST'),
    customheaders: z.record(z.string(), z.string()).default({}).meta({ description: 'Extra request headers (env: "k:v,k2:v2").' }),
    checkcert: z.boolean().default(true).meta({ description: 'Verify the server\'s TLS certificate.' }),
    cacertfile: z.string().default('').meta({ description: 'PEM file of CAs to trust in addition to the system ones.' }),
  }),
  isEnabled: (c) => c.address !== '',
  delivery: { adaptive: true },
  create(c) {
    if (!/^https?:\/\//.test(c.address)) throw new Error(`webhook.address "${c.address}" is not an http(s) URL`);
    const agent = httpAgent(c);
    const headers = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Peregrine', ...c.customheaders };
    return {
      async send(alerts, signal) {
        for (const a of alerts) await sendJson(agent, c.address, { method: c.method, headers, body: alertJson(a), signal });
      },
      close: () => agent.close(),
    };
  },
});
