import type { MessageAttributeValue, SNSClientConfig } from '@aws-sdk/client-sns';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import { z } from 'zod';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { priorityTitle } from '../src/alert/priority.ts';
import type { Logger } from '../src/log.ts';
import { DeliveryError, defineOutput } from '../src/router/output.ts';
import { alertJson } from './webhook.ts';

/** SNS refuses more than 10 message attributes (and SQS raw delivery drops such messages). */
export const SNS_MAX_ATTRIBUTES = 10;

/**
 * priority, rule, source, tags and hostname first, then output fields in key order until the limit.
 * Field names are made valid attribute names (letters, digits, "-", "_", "." only).
 */
export function snsAttributes(a: FalcoAlert): Record<string, MessageAttributeValue> {
  const attrs: Record<string, MessageAttributeValue> = {
    priority: { DataType: 'String', StringValue: priorityTitle(a.priority) },
    rule: { DataType: 'String', StringValue: a.rule },
    source: { DataType: 'String', StringValue: a.source },
  };
  if (a.tags.length > 0) attrs.tags = { DataType: 'String', StringValue: a.tags.join(',') };
  if (a.hostname) attrs.hostname = { DataType: 'String', StringValue: a.hostname };
  for (const key of Object.keys(a.output_fields).sort()) {
    if (Object.keys(attrs).length >= SNS_MAX_ATTRIBUTES) break;
    const v = a.output_fields[key];
    const name = key.replace(/\[/g, '.').replace(/[^A-Za-z0-9_.-]/g, '').replace(/^\.+|\.+$/g, '');
    // Lists and nested objects have no attribute type; Falcosidekick leaves them out too.
    if (!name || name in attrs || v === null || v === undefined || v === '' || typeof v === 'object') continue;
    attrs[name] = typeof v === 'number' || typeof v === 'bigint'
      ? { DataType: 'Number', StringValue: String(v) } // a bigint prints every digit
      : { DataType: 'String', StringValue: String(v) };
  }
  return attrs;
}

/**
 * Falcosidekick's aws.checkidentity: one STS GetCallerIdentity at start, so wrong credentials show at once
 * instead of at the first alert. Refused credentials (an STS 4xx, or none found) stop the start with the
 * reason; STS out of reach (network, 5xx) is logged and the output starts, since delivery retries and the
 * spool keeps the alerts (Falcosidekick runs without its AWS outputs in both cases).
 */
async function checkIdentity(aws: SNSClientConfig, log: Logger): Promise<void> {
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ ...aws } as STSClientConfig);
  try {
    await sts.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const refused = (status !== undefined && status >= 400 && status < 500) || e.name === 'CredentialsProviderError';
    const what = `aws.checkidentity: STS GetCallerIdentity failed (${e.name}: ${e.message})`;
    if (refused) throw new Error(`${what}; fix the credentials, or set aws.checkidentity: false to skip the check`);
    log.warn(`${what}; STS is out of reach, so the output starts and delivery will retry`);
  } finally {
    sts.destroy();
  }
}

export const snsOutput = defineOutput({
  type: 'awssns',
  configPath: ['aws', 'sns'],
  parentKeys: {
    region: z.string().default('').meta({ description: 'AWS region (else the SDK\'s default chain: AWS_REGION …).' }),
    endpoint: z.string().default('').meta({ description: 'Endpoint override: an emulator, a VPC endpoint.' }),
    accesskeyid: z.string().default('').meta({ description: 'Static credentials (else the SDK\'s default chain: env, profile, IRSA, IMDS).' }),
    secretaccesskey: z.string().default(''),
    checkidentity: z.boolean().default(true).meta({ description: 'At start, check the credentials with STS GetCallerIdentity (at aws.endpoint when set), as Falcosidekick does: refused credentials stop the start with the reason; STS out of reach is logged.' }),
  },
  schema: z.strictObject({
    topicarn: z.string().default('').meta({ description: 'Topic ARN; set it to enable the output.' }),
    rawjson: z.boolean().default(false).meta({ description: 'Message = the alert as JSON (else the output line); attributes in both cases.' }),
  }),
  isEnabled: (c) => c.topicarn !== '',
  delivery: { adaptive: true },
  async create(c, ctx) {
    const k = c as typeof c & { region?: string; endpoint?: string; accesskeyid?: string; secretaccesskey?: string; checkidentity?: boolean };
    if (!/^arn:aws[a-z-]*:sns:/.test(c.topicarn)) throw new Error(`aws.sns.topicarn "${c.topicarn}" is not an SNS topic ARN`);
    const aws: SNSClientConfig = {
      ...(k.region ? { region: k.region } : {}),
      ...(k.endpoint ? { endpoint: k.endpoint } : {}),
      ...(k.accesskeyid ? { credentials: { accessKeyId: k.accesskeyid, secretAccessKey: k.secretaccesskey ?? '' } } : {}),
      // Retries are the router's (one policy, counted in metrics), not the SDK's.
      maxAttempts: 1,
    };
    if (k.checkidentity !== false) await checkIdentity(aws, ctx.log);
    // The AWS SDK is loaded only when an SNS output is configured: ~25 MiB RSS in every router otherwise.
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const client = new SNSClient(aws);
    return {
      async send(alerts, signal) {
        for (const a of alerts) {
          try {
            await client.send(new PublishCommand({
              TopicArn: c.topicarn,
              Message: c.rawjson ? alertJson(a) : a.output || a.rule,
              Subject: `${priorityTitle(a.priority)}: ${a.rule}`.replace(/[^\x20-\x7e]/g, '').slice(0, 99),
              MessageAttributes: snsAttributes(a),
            }), { abortSignal: signal });
          } catch (err) {
            const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
            const status = e.$metadata?.httpStatusCode;
            const retryable = status === undefined || status >= 500 || status === 429 || e.$retryable !== undefined || e.name === 'ThrottlingException';
            throw new DeliveryError(`sns: ${e.name ?? 'error'}: ${e.message ?? String(err)}`, { retryable, ...(status ? { status } : {}), cause: err });
          }
        }
      },
      async close() { client.destroy(); },
    };
  },
});
