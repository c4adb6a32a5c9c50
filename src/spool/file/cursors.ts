import { open, rename } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What is saved per consumer: its cursor, and records after it already done (delivered out of order). */
export interface SavedCursors {
  cursors: Map<string, number>;
  done: Map<string, number[]>;
}

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
  load(): SavedCursors | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const obj = JSON.parse(text) as { cursors?: unknown; done?: unknown };
      if (!isObject(obj) || !isObject(obj.cursors)) return undefined;
      const out: SavedCursors = { cursors: new Map(), done: new Map() };
      for (const [k, v] of Object.entries(obj.cursors)) if (isSeq(v)) out.cursors.set(k, v);
      if (isObject(obj.done)) {
        for (const [k, v] of Object.entries(obj.done)) if (Array.isArray(v)) out.done.set(k, v.filter(isSeq));
      }
      return out;
    } catch {
      return undefined;
    }
  }

  async save(saved: SavedCursors): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ cursors: Object.fromEntries(saved.cursors), done: Object.fromEntries(saved.done) }));
      if (this.sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
