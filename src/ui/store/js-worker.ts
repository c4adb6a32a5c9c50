import { existsSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript module without Node's type stripper in that thread. Each
 * thread that loads a .ts file loads the stripper (a WebAssembly build of swc): ~17 MiB of RSS per
 * thread. This thread has it loaded already, so it strips the worker's own modules (the .ts files
 * reachable from `entry` by relative imports) and the worker gets them as JavaScript through a module
 * load hook; any other module loads as usual.
 */
export function startJsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'>): Worker {
  return new Worker(bootCode(entry.href, strippedGraph(entry)), { ...options, eval: true });
}

/** The worker's first code (CommonJS, run as given): installs the hook, then imports the entry. */
function bootCode(entry: string, sources: Map<string, string>): string {
  return `'use strict';
const sources = new Map(${JSON.stringify([...sources])});
require('node:module').registerHooks({
  load: (url, context, next) => sources.has(url) ? { format: 'module', source: sources.get(url), shortCircuit: true } : next(url, context),
});
import(${JSON.stringify(entry)});
`;
}

// Relative imports left in stripped code (type-only imports are gone with the types).
const IMPORT = /(?:^|[;\s])(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"](\.\.?\/[^'"]+\.ts)['"]/g;

/** url -> JavaScript of `entry` and every .ts module it reaches by relative imports. */
export function strippedGraph(entry: URL): Map<string, string> {
  const sources = new Map<string, string>();
  const todo = [entry];
  while (todo.length > 0) {
    const url = todo.pop()!;
    if (sources.has(url.href)) continue;
    // Something that only looks like an import (in a string or a comment) is no reason to fail here.
    if (url !== entry && !existsSync(fileURLToPath(url))) continue;
    // Stripping keeps every line and column in place: stack traces point into the .ts files.
    const js = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'strip' });
    sources.set(url.href, js);
    for (const m of js.matchAll(IMPORT)) todo.push(new URL(m[1]!, url));
  }
  return sources;
}
