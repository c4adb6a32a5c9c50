import { PeregrineError } from '../errors.ts';
import type { Spool, SpoolBackend, SpoolOptions } from './contract.ts';
import { fileSpoolBackend } from './file/index.ts';

/** The spool backends `spool.type` can name; a new backend is its folder plus one line here. */
export const spoolBackends: ReadonlyMap<string, SpoolBackend> = new Map([
  [fileSpoolBackend.type, fileSpoolBackend],
]);

export function openSpool(type: string, opts: SpoolOptions): Promise<Spool> {
  const backend = spoolBackends.get(type);
  if (!backend) throw new PeregrineError('PRG_SPOOL_TYPE', `spool.type "${type}" is unknown (expected one of ${[...spoolBackends.keys()].join(', ')})`);
  return backend.open(opts);
}
