import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { startJsWorker, strippedGraph } from '../../src/ui/store/js-worker.ts';

const entry = new URL('../fixtures/js-worker/entry.ts', import.meta.url);

test('the worker graph: the entry and its relative runtime imports, stripped; type-only imports left out', () => {
  const graph = strippedGraph(entry);
  assert.deepEqual([...graph.keys()].map((u) => fileURLToPath(u).split('/').slice(-2).join('/')).sort(), ['js-worker/dep.ts', 'js-worker/entry.ts']);
  assert.doesNotMatch(graph.get(new URL('dep.ts', entry).href)!, /: number/);
});

test('a worker started on TypeScript runs it as JavaScript, without loading the type stripper in its thread', async () => {
  const plain = new Worker(entry, { workerData: 20 });
  const [asUsual] = await once(plain, 'message') as [{ value: number; stripperLoaded: boolean }];
  await plain.terminate();
  // The usual way loads it (the saving is this module: ~17 MiB of RSS per thread).
  assert.deepEqual(asUsual, { value: 40, stripperLoaded: true });

  const worker = startJsWorker(entry, { workerData: 21 });
  const [answer] = await once(worker, 'message') as [{ value: number; stripperLoaded: boolean }];
  await worker.terminate();
  assert.deepEqual(answer, { value: 42, stripperLoaded: false });
});

test('an error thrown while the worker module loads reaches the parent as an error event', async () => {
  const worker = startJsWorker(new URL('../fixtures/js-worker/throws.ts', import.meta.url), {});
  const [err] = await once(worker, 'error') as [Error];
  assert.equal(err.message, 'fixture worker: cannot start');
});
