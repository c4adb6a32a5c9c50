import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeregrineError } from '../../errors.ts';

/**
 * One process per spool directory: two writers would interleave records. The lock file holds the
 * owner's pid; a lock left by a process that died (kill -9) is taken over.
 */
const heldHere = new Set<string>();

export function lockDir(dir: string): () => void {
  const key = realpathSync(dir);
  if (heldHere.has(key)) throw new PeregrineError('PRG_SPOOL_LOCKED', `spool directory ${dir} is in use by process ${process.pid} (this one)`);
  const file = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
        throw new PeregrineError('PRG_SPOOL_LOCKED', `spool directory ${dir} is in use by process ${owner} (stop it first, or give this process its own spool.dir)`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new PeregrineError('PRG_SPOOL_LOCKED', `cannot lock spool directory ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
