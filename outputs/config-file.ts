import { readFileSync } from 'node:fs';

/**
 * Reads a file an output's config names (CA bundle, credentials) when the output starts, so a wrong path stops
 * the start with the key in the message instead of failing every send later.
 */
export function readConfigFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`${key}: cannot read ${path}: ${why}`);
  }
}
