import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { rootCertificates } from 'node:tls';
import { z } from 'zod';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { readConfigFile } from './config-file.ts';
import { DeliveryError, defineOutput, untilAborted } from '../src/router/output.ts';
import { alertJson } from './webhook.ts';

/** Falcosidekick's subject: `<priority>` lower-case, `<rule>` lower-case with runs of [^a-z0-9] as "_". */
export function natsSubject(template: string, a: FalcoAlert): string {
  const rule = a.rule.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return template.replaceAll('<priority>', a.priority).replaceAll('<rule>', rule);
}

/** Distinct (priority, rule) pairs remembered; past this the memory starts over (rule names come from input). */
const SUBJECTS_KEPT = 1024;

/** natsSubject, remembered per priority and rule: rules are few, and the regexes ran for every alert. */
function subjectCache(template: string): (a: FalcoAlert) => string {
  const known = new Map<string, string>();
  return (a) => {
    const key = `${a.priority}\n${a.rule}`;
    let subject = known.get(key);
    if (subject === undefined) {
      if (known.size >= SUBJECTS_KEPT) known.clear();
      known.set(key, (subject = natsSubject(template, a)));
    }
    return subject;
  };
}

const schema = z.strictObject({
  hostport: z.string().default('').meta({ description: 'NATS server URL(s), comma-separated (nats://host:4222); set it to enable the output.' }),
  subjecttemplate: z.string().default('falco.<priority>.<rule>').meta({ description: 'Subject; <priority> and <rule> are replaced (normalised as Falcosidekick does).' }),
  user: z.string().default(''),
  password: z.string().default(''),
  token: z.string().default(''),
  credsfile: z.string().default('').meta({ description: 'NATS credentials file (JWT + nkey).' }),
  tls: z.boolean().default(false).meta({ description: 'Require TLS.' }),
  cacertfile: z.string().default('').meta({ description: 'PEM file of CAs for TLS.' }),
  checkcert: z.boolean().default(true),
  jetstream: z.boolean().default(false).meta({ description: 'Publish to JetStream and wait for the stream\'s ack (a stream must cover the subjects).' }),
});

export const natsOutput = defineOutput({
  type: 'nats',
  configPath: ['nats'],
  schema,
  isEnabled: (c) => c.hostport !== '',
  // A batch is one write and one PING/PONG round trip (the flush that confirms delivery). Flat out, sending
  // whatever was ready made batches of ~12 alerts; waiting 5 ms for more made them ~30-60 and took ~15 % more
  // alerts/s through the router (bench/README.md, NATS). 5 ms is invisible beside the alert's own path.
  delivery: { maxBatch: 100, batchWaitMs: 5, concurrency: 1 },
  mutualTls: true,
  async create(c, ctx) {
    const servers = c.hostport.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of servers) if (!/^(nats|tls):\/\//.test(s)) throw new Error(`nats.hostport "${s}" must start with nats:// or tls://`);
    // Read now: a wrong path is a config error at start, not a send failure retried forever.
    const creds = c.credsfile ? readConfigFile('nats.credsfile', c.credsfile) : undefined;
    const cacert = c.cacertfile ? readConfigFile('nats.cacertfile', c.cacertfile).toString('utf8') : undefined;
    // mutualtls: a client certificate for servers that verify clients (tls_verify), and their CA trusted
    // besides the system ones; the server's certificate is then always checked, as for HTTP outputs.
    const mtls = ctx.clientCert;
    const tls = mtls
      ? { cert: mtls.cert.toString('utf8'), key: mtls.key.toString('utf8'), ca: [...rootCertificates, mtls.ca.toString('utf8'), ...(cacert ? [cacert] : [])].join('\n'), rejectUnauthorized: true }
      : c.tls || cacert ? { ...(cacert ? { ca: cacert } : {}), rejectUnauthorized: c.checkcert } : undefined;
    // The NATS client is loaded only when a nats output is configured (~13 MiB RSS otherwise).
    const [{ connect, credsAuthenticator }, { jetstream }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    const subject = subjectCache(c.subjecttemplate);
    let conn: Promise<NatsConnection> | undefined;
    let js: JetStreamClient | undefined;
    // One long-lived connection (Falcosidekick opens one per alert); made on first use so a server that is
    // down at start is retried by the delivery layer instead of disabling the output.
    const connection = (): Promise<NatsConnection> => {
      conn ??= connect({
        servers,
        name: `peregrine-${ctx.name}`,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        ...(c.user ? { user: c.user, pass: c.password } : {}),
        ...(c.token ? { token: c.token } : {}),
        ...(creds ? { authenticator: credsAuthenticator(creds) } : {}),
        ...(tls ? { tls } : {}),
      }).then((nc) => {
        nc.closed().then(() => { conn = undefined; js = undefined; });
        ctx.log.info({ server: nc.getServer() }, 'connected to NATS');
        return nc;
      }, (err: unknown) => {
        conn = undefined;
        throw err;
      });
      return conn;
    };
    return {
      async send(alerts, signal) {
        let nc: NatsConnection;
        try {
          nc = await connection();
        } catch (err) {
          throw new DeliveryError(`nats: cannot connect to ${servers.join(',')}: ${(err as Error).message}`, { retryable: true, cause: err });
        }
        try {
          if (c.jetstream) {
            js ??= jetstream(nc);
            const client = js;
            // The alert's uuid as the message id: a batch retried after a timeout (its first publishes may
            // still reach the server once it is back) is stored once within the stream's duplicate window.
            await untilAborted(Promise.all(alerts.map((a) => client.publish(subject(a), alertJson(a), { msgID: a.uuid }))), signal, 'nats');
          } else {
            for (const a of alerts) nc.publish(subject(a), alertJson(a));
            // flush() returns once the server has processed everything sent before it.
            await untilAborted(nc.flush(), signal, 'nats');
          }
        } catch (err) {
          if (err instanceof DeliveryError) throw err;
          throw new DeliveryError(`nats: ${(err as Error).message}`, { retryable: true, cause: err });
        }
      },
      async close() {
        const nc = await conn?.catch(() => undefined);
        // close(), not drain(): every send already waited for its flush (or was given up, and its alerts stay
        // in the spool), so nothing is left to drain, and drain() waits for a server that may be gone.
        await nc?.close().catch(() => {});
      },
    };
  },
});
