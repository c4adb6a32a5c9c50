import { readFileSync, existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Where `npm install` (scripts/build-ui.ts) puts the built front end. */
export const UI_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.map': 'application/json',
};

/**
 * The built UI, read into memory once. Paths that are not files (/ui/events, /ui/alert/42) get
 * index.html: the page's own router shows them, so links to any page can be shared.
 */
export class StaticAssets {
  private readonly files = new Map<string, Buffer>();
  readonly built: boolean;
  constructor(dir = UI_DIST) {
    this.built = existsSync(join(dir, 'index.html'));
    if (!this.built) return;
    for (const name of ['index.html', 'app.js', 'app.css', 'favicon.svg']) {
      const p = join(dir, name);
      if (existsSync(p)) this.files.set(name, readFileSync(p));
    }
  }

  serve(subpath: string, res: ServerResponse): void {
    const name = normalize(subpath).replace(/^\/+/, '');
    let file = this.files.get(name);
    let type = TYPES[extname(name)] ?? 'application/octet-stream';
    if (!file) {
      if (extname(name) !== '' && name !== 'index.html') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`no file ${name}\n`);
        return;
      }
      file = this.files.get('index.html');
      type = TYPES['.html']!;
    }
    if (!file) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The UI is not built: run `npm install` (or `node scripts/build-ui.ts`) in the Peregrine directory.\n');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'content-length': file.length });
    res.end(file);
  }
}
