import { DEFAULT_CONFIG_FILE, loadConfig } from '../../config/load.ts';
import { PeregrineError } from '../../errors.ts';
import { outputRegistry } from '../../../outputs/registry.ts';
import { openSpool } from '../../spool/registry.ts';
import { openDeadLetterLog, pendingDeadLetters, REPLAY_CONSUMER } from '../../router/delivery/dead-letter-log.ts';
import { encodeSpooled } from '../../router/delivery/spooled-alert.ts';
import { enabledBlocks } from '../../router/instances.ts';
import type { Command } from '../main.ts';

/**
 * `peregrine deadletter list|replay`: the alerts an output gave up on (retries exhausted, or an error a
 * retry cannot fix). Replay puts them back in the spool for the output that failed them, and only that one.
 * Both open the spool directory, so the router using it must be stopped.
 */
const deadletter: Command = {
  summary: 'list or replay the alerts outputs gave up on (the dead-letter log in spool.dir)',
  usage: 'peregrine deadletter list|replay [-c FILE] [--json]',
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' },
    'config-file': { type: 'string' },
    json: { type: 'boolean' },
  },
  async main(values, positionals) {
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== 'list' && action !== 'replay')) {
      console.error(`peregrine deadletter: expected "list" or "replay"\n\nusage: ${this.usage}`);
      return 2;
    }
    const file = (values.config ?? values['config-file'] ?? DEFAULT_CONFIG_FILE) as string;
    const config = loadConfig({ file });
    const s = config.spool;
    const base = { dir: s.dir, fsync: s.fsync, fsyncMs: s.fsyncms, maxBytes: s.maxbytes };
    const log = await openDeadLetterLog(s.type, base);
    try {
      const letters = await pendingDeadLetters(log);
      if (action === 'list') {
        for (const d of letters) {
          if (values.json) console.log(JSON.stringify(d));
          else {
            const a = typeof d.alert === 'string' ? undefined : d.alert;
            console.log(`${d.seq}\t${d.at}\t${d.output}\tattempts=${d.attempts}\t${a ? `${a.rule} (${a.uuid})` : '(unreadable record)'}\t${d.error}`);
          }
        }
        if (!values.json) console.error(`${letters.length} dead letter(s) in ${s.dir}`);
        return 0;
      }
      if (letters.length === 0) {
        console.error('no dead letters to replay');
        return 0;
      }
      const outputs = enabledBlocks(config, outputRegistry).map((b) => b.name);
      const unknown = [...new Set(letters.map((d) => d.output).filter((o) => !outputs.includes(o)))];
      if (unknown.length > 0) {
        throw new PeregrineError('PRG_DEADLETTER_OUTPUT', `dead letters are for outputs not in ${file}: ${unknown.join(', ')}; configure them to replay (nothing was changed)`);
      }
      const unreadable = letters.filter((d) => typeof d.alert === 'string').length;
      const spool = await openSpool(s.type, { ...base, whenFull: s.whenfull, consumers: outputs });
      try {
        for (const d of letters) {
          if (typeof d.alert === 'string') continue;
          await spool.append(encodeSpooled({ alert: d.alert, acceptedAt: Date.now(), to: d.output }));
        }
      } finally {
        await spool.close();
      }
      log.reader(REPLAY_CONSUMER).ack(letters.at(-1)!.seq + 1);
      console.error(`${letters.length - unreadable} dead letter(s) put back in the spool for their outputs; they are sent when the router starts${unreadable ? ` (${unreadable} unreadable record(s) left out)` : ''}`);
      return 0;
    } finally {
      await log.close();
    }
  },
};
export default deadletter;
