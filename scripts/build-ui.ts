// Builds the web UI (ui/src) into ui/dist with esbuild: one JS bundle, one CSS file, index.html.
// Run by npm's postinstall and by the Dockerfile; `node scripts/build-ui.ts --watch` rebuilds on change.
import { build, context, type BuildOptions } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../ui/', import.meta.url));
const dist = `${root}dist/`;
mkdirSync(dist, { recursive: true });
for (const f of ['index.html', 'favicon.svg']) copyFileSync(`${root}${f}`, `${dist}${f}`);

const options: BuildOptions = {
  entryPoints: { app: `${root}src/main.tsx` },
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
};

if (process.argv.includes('--watch')) {
  await (await context(options)).watch();
} else {
  const started = performance.now();
  await build(options);
  console.log(`peregrine: UI built in ${Math.round(performance.now() - started)} ms (ui/dist)`);
}
