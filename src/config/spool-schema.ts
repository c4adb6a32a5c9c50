import { z } from 'zod';

/** The durable log between inputs and outputs (src/spool/). */
export const spoolSchema = z.strictObject({
  type: z.enum(['file']).default('file').meta({ description: 'Spool backend: file (segment files on local disk).' }),
  dir: z.string().default('').meta({ description: 'Directory of the spool ("" = spool/ beside the config file; relative paths are taken from the config file\'s directory). One process per directory.' }),
  fsync: z.enum(['always', 'interval', 'never']).default('interval').meta({ description: 'When an accepted alert is acknowledged: always = after it is written and fsync\'d (survives a machine crash); interval = after it is written (survives a crash of Peregrine), fsync\'d at most fsyncms later (a machine crash loses at most that window); never = after it is written, syncing left to the OS.' }),
  fsyncms: z.int().min(1).max(1000).default(5).meta({ description: 'With fsync: interval, the longest time between a write and its fsync, in ms.' }),
  maxbytes: z.int().min(64 * 1024).default(1024 ** 3).meta({ description: 'Largest size of the spool on disk (default 1 GiB).' }),
  whenfull: z.enum(['reject', 'drop_oldest']).default('reject').meta({ description: 'When the spool is full: reject (HTTP 503 with Retry-After, counted) or drop_oldest (oldest alerts dropped, counted).' }),
});
