import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { z } from 'zod';
import { stringifyJson } from '../src/alert/json.ts';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { priorityTitle, type Priority } from '../src/alert/priority.ts';
import { DeliveryError, defineOutput } from '../src/router/output.ts';
import { compileTemplate, type CompiledTemplate } from '../src/router/template.ts';
import type { RequestTarget } from '../src/http-client/client.ts';
import { httpClient, redact, statusError } from './http.ts';

/** Statuses a fetch Response may not carry a body with. */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

// Falcosidekick's colours, so a team switching sees the same Slack.
const COLOURS: Record<Priority, string> = {
  emergency: '#e20b0b', alert: '#ff5400', critical: '#ff5400', error: '#e20b0b',
  warning: '#ffc700', notice: '#5bffb5', informational: '#68c2ff', debug: '#ccfff2',
};

const schema = z.strictObject({
  webhookurl: z.string().default('').meta({ description: 'Slack incoming-webhook URL; set it to enable the output.' }),
  channel: z.string().default('').meta({ description: 'Channel override (legacy webhooks only).' }),
  username: z.string().default('Peregrine'),
  icon: z.string().default('').meta({ description: 'Icon URL of the message.' }),
  footer: z.string().default('Peregrine'),
  outputformat: z.enum(['all', 'text', 'fields']).default('all').meta({ description: 'all: text and fields; text: the output line only; fields: fields only.' }),
  messageformat: z.string().default('').meta({ description: 'Go-template text above the attachment, e.g. "Alert {{ .Rule }} on {{ .Hostname }}".' }),
  layout: z.enum(['attachments', 'blocks']).default('attachments').meta({ description: 'attachments (Falcosidekick\'s layout) or blocks (Block Kit).' }),
  checkcert: z.boolean().default(true).meta({ description: 'Verify the TLS certificate of the webhook URL\'s server.' }),
  cacertfile: z.string().default('').meta({ description: 'PEM file of CAs to trust in addition to the system ones.' }),
});
export type SlackConfig = z.output<typeof schema>;

/** What Falcosidekick's messageformat templates see: the alert under Go-style names. */
function templateContext(a: FalcoAlert): Record<string, unknown> {
  return {
    Output: a.output, Priority: priorityTitle(a.priority), Rule: a.rule, Time: a.time, Source: a.source,
    Tags: a.tags, Hostname: a.hostname, UUID: a.uuid, OutputFields: a.output_fields,
  };
}

function fieldList(a: FalcoAlert): { title: string; value: string; short: boolean }[] {
  const fields = [
    { title: 'rule', value: a.rule, short: true },
    { title: 'priority', value: priorityTitle(a.priority), short: true },
    { title: 'source', value: a.source, short: true },
  ];
  if (a.hostname) fields.push({ title: 'hostname', value: a.hostname, short: true });
  if (a.tags.length > 0) fields.push({ title: 'tags', value: a.tags.join(', '), short: true });
  // Unlike Falcosidekick, numbers and booleans are shown too (it silently drops non-strings).
  for (const k of Object.keys(a.output_fields).sort()) {
    const v = a.output_fields[k];
    const value = v === null || v === undefined ? '<NA>' : typeof v === 'object' ? stringifyJson(v) : String(v);
    fields.push({ title: k, value, short: value.length < 36 });
  }
  fields.push({ title: 'time', value: a.time, short: false });
  return fields;
}

/** Builds the Slack message for one alert (pure: the tests compare its output). */
export function slackMessage(a: FalcoAlert, c: SlackConfig, message?: CompiledTemplate): IncomingWebhookSendArguments {
  const base: IncomingWebhookSendArguments = { username: c.username };
  if (c.icon) base.icon_url = c.icon;
  if (c.channel) base.channel = c.channel;
  const text = message ? message(templateContext(a)) : undefined;
  const showText = c.outputformat !== 'fields';
  const showFields = c.outputformat !== 'text';
  if (c.layout === 'blocks') {
    const blocks: NonNullable<IncomingWebhookSendArguments['blocks']> = [
      { type: 'header', text: { type: 'plain_text', text: `${priorityTitle(a.priority)}: ${a.rule}`.slice(0, 150) } },
    ];
    if (text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
    if (showText && a.output) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + a.output + '```' } });
    if (showFields) {
      const f = fieldList(a).filter((x) => x.title !== 'rule' && x.title !== 'priority');
      // A section holds at most 10 fields.
      for (let i = 0; i < f.length; i += 10) {
        blocks.push({ type: 'section', fields: f.slice(i, i + 10).map((x) => ({ type: 'mrkdwn', text: `*${x.title}*\n${x.value}` })) });
      }
    }
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: c.footer }] });
    return { ...base, text: text ?? `${priorityTitle(a.priority)}: ${a.rule}`, blocks };
  }
  return {
    ...base,
    ...(text ? { text } : {}),
    attachments: [{
      fallback: a.output,
      color: COLOURS[a.priority],
      ...(showText ? { text: a.output } : {}),
      ...(showFields ? { fields: fieldList(a), footer: c.footer } : {}),
    }],
  };
}

export const slackOutput = defineOutput({
  type: 'slack',
  configPath: ['slack'],
  schema,
  isEnabled: (c) => c.webhookurl !== '',
  // Slack's incoming webhooks allow about one message per second.
  delivery: { concurrency: 1, ratePerSecond: 1 },
  mutualTls: true,
  async create(c, ctx) {
    if (!/^https?:\/\//.test(c.webhookurl)) throw new Error(`slack.webhookurl is not an http(s) URL (${redact(c.webhookurl)})`);
    const message = c.messageformat ? compileTemplate(c.messageformat, 'slack.messageformat') : undefined;
    // The outputs' own HTTP client, as for the webhook: forward proxies from the environment as Falcosidekick's
    // Go client reads them, keep-alive, checkcert/cacertfile/tlsclient and mutual TLS.
    const client = httpClient(c, ctx);
    let target: RequestTarget;
    try {
      target = client.target(c.webhookurl, 'POST', { 'content-type': 'application/json', 'user-agent': 'Peregrine' });
    } catch (err) {
      throw new Error(`slack: ${redact((err as Error).message)}`);
    }
    // Loaded only when a slack output is configured, as every output's client library.
    const { IncomingWebhook } = await import('@slack/webhook');
    return {
      async send(alerts, signal) {
        for (const a of alerts) {
          let retryAfter: string | null = null;
          const hook = new IncomingWebhook(c.webhookurl, {
            // Our fetch threads the delivery layer's abort signal through and keeps Retry-After,
            // which the library's error does not carry.
            // The library posts its JSON to the URL it was given, so the prepared target (same URL, JSON
            // content type) stands in for both; only the body and the signal come from the call.
            fetch: async (_url, init) => {
              const res = await target.send(String(init?.body ?? ''), init?.signal ? AbortSignal.any([init.signal, signal]) : signal, 4096);
              retryAfter = res.headers['retry-after'] ?? null;
              return new Response(NULL_BODY_STATUS.has(res.status) ? null : res.body, { status: res.status, headers: res.headers });
            },
          });
          try {
            await hook.send(slackMessage(a, c, message));
          } catch (err) {
            const status = (err as { statusCode?: number }).statusCode;
            if (status !== undefined) throw statusError(status, retryAfter, `slack ${redact(c.webhookurl)}: HTTP ${status}`);
            throw new DeliveryError(`slack ${redact(c.webhookurl)}: ${(err as Error).message}`, { retryable: true, cause: err });
          }
        }
      },
      close: () => client.close(),
    };
  },
});
