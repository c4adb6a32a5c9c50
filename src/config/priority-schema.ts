import { z } from 'zod';
import { parsePriority, PRIORITIES, type Priority } from '../alert/priority.ts';

/**
 * Short names people write for a minimum priority (syslog's). Falcosidekick does not refuse them: its
 * check keeps any value containing a priority name and blanks the rest, so "warn" there silently means
 * "" (every alert). Peregrine reads them as the priority they abbreviate.
 */
const CONFIG_ALIASES: Record<string, Priority> = { warn: 'warning', err: 'error', crit: 'critical', emerg: 'emergency' };

/** A priority as written in the config: any case, "info" and the aliases above allowed. */
export function parseConfigPriority(name: string): Priority | undefined {
  return parsePriority(name) ?? CONFIG_ALIASES[name.trim().toLowerCase()];
}

/** A minimum priority key: a priority name or alias (any case) or "" for none. */
export const minimumPriority = z.string().default('').transform((s, ctx): Priority | undefined => {
  if (s.trim() === '') return undefined;
  const p = parseConfigPriority(s);
  if (!p) ctx.addIssue({ code: 'custom', message: `unknown priority "${s}" (expected one of ${PRIORITIES.join(', ')}, or info, warn, err, crit, emerg)` });
  return p;
}).meta({ description: 'Lowest priority sent to this output ("" = all; any case; info/warn/err/crit/emerg allowed).' });
