import { open, rename } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Consumer cursors in one small JSON file, replaced atomically (write a temporary file, sync, rename).
 * A cursor that is older than the truth only causes redelivery, never loss.
 */
export class CursorFile {
  private readonly file: string;
  private readonly sync: boolean;
  constructor(dir: string, sync: boolean) {
    this.file = join(dir, 'cursors.json');
    this.sync = sync;
  }

  /** The saved cursors; undefined when the file is missing or unreadable (then nobody's position is known). */
  load(): Map<string, number> | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const obj = JSON.parse(text) as unknown;
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
      const out = new Map<string, number>();
      for (const [k, v] of Object.entries(obj)) if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out.set(k, v);
      return out;
    } catch {
      return undefined;
    }
  }

  async save(cursors: ReadonlyMap<string, number>): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(Object.fromEntries(cursors)));
      if (this.sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
