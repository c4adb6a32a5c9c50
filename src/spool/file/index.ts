import type { SpoolBackend } from '../contract.ts';
import { FileSpool } from './file-spool.ts';

/** `spool.type: file`: segment files on local disk (the embedded default). */
export const fileSpoolBackend: SpoolBackend = {
  type: 'file',
  open: (opts) => FileSpool.open(opts),
};
