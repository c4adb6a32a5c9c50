import { z } from 'zod';
import { PeregrineError } from '../errors.ts';
import type { StoreOptions } from './store/contract.ts';

/** The `ui` block: the `ui` output's store, and who may read it over /ui/ and /api/v1. */
export const uiSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({ description: 'Store alerts for the web UI (/ui/) and its API (/api/v1).' }),
  dbfile: z.string().default('').meta({ description: 'SQLite file of the UI store ("" = ui.sqlite beside the config file; relative paths are taken from the config file\'s directory; /var/lib/peregrine/ui.sqlite in the image and chart).' }),
  retention: z.string().regex(/^(0|\d+(s|m|h|d|w))$/, 'a duration like 30m, 12h, 7d, 2w, or 0 to keep alerts of any age')
    .default('7d').meta({ description: 'Alerts older than this are deleted (s, m, h, d, w; 0 = no age limit).' }),
  maxbytes: z.int().min(0).default(536870912).meta({ description: 'Largest size of the store on disk; the oldest alerts go first (0 = no limit).' }),
  user: z.string().default('').meta({ description: 'Login name for the UI; with passwordhash, the UI and API need a login (or the bearer token).' }),
  passwordhash: z.string().default('').meta({ description: 'scrypt hash of the password, from `peregrine ui-password`.' }),
  sessionhours: z.number().positive().default(12).meta({ description: 'How long a UI login lasts.' }),
});
export type UiConfig = z.output<typeof uiSchema>;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function retentionMs(text: string): number {
  if (text === '0') return 0;
  const m = /^(\d+)([smhdw])$/.exec(text);
  if (!m) throw new PeregrineError('PRG_CONFIG_INVALID', `ui.retention: "${text}" is not a duration like 7d`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function storeOptions(c: UiConfig): StoreOptions {
  // "" is left only for configs given as text (tests, embedding): a store that lives as long as the process.
  return { file: c.dbfile === '' ? ':memory:' : c.dbfile, retentionMs: retentionMs(c.retention), maxBytes: c.maxbytes };
}
