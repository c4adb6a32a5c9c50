import { z } from 'zod';
import { parsePriority, PRIORITIES, type Priority } from '../alert/priority.ts';

/** A minimum priority key: a priority name (any case, "info" allowed) or "" for none. */
export const minimumPriority = z.string().default('').transform((s, ctx): Priority | undefined => {
  if (s.trim() === '') return undefined;
  const p = parsePriority(s);
  if (!p) ctx.addIssue({ code: 'custom', message: `unknown priority "${s}" (expected one of ${PRIORITIES.join(', ')})` });
  return p;
}).meta({ description: 'Lowest priority sent to this output ("" = all).' });
