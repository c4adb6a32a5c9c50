// Summarises a V8 .cpuprofile (from node --cpu-prof): `node bench/support/cpuprofile.ts FILE [top=30] [--skip=S]`
// (--skip drops the first S seconds: start-up, module compilation).
// Prints self time per function and inclusive time per package/source file, so the hot spots of a
// bench run can be read without a browser.
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const skipArg = process.argv.find((a) => a.startsWith('--skip='));
const skipUs = skipArg ? Number(skipArg.slice(7)) * 1e6 : 0;
const [file, topArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: node bench/support/cpuprofile.ts FILE.cpuprofile [top=30]');
const top = Number(topArg ?? 30);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
let elapsed = 0;
for (let i = 0; i < p.samples.length; i++) {
  elapsed += p.timeDeltas[i] ?? 0;
  if (elapsed < skipUs) continue;
  selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'npm:').replace(process.cwd() + '/', '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
};
const self = new Map<string, number>();
for (const [id, us] of selfUs) { const k = where(byId.get(id)!); self.set(k, (self.get(k) ?? 0) + us); }

// Inclusive time per source (file or npm package): a sample counts once for every distinct source on its stack.
const source = (n: Node) => {
  const u = n.callFrame.url;
  if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  if (u.startsWith('node:')) return u;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  return m ? `npm:${m[1]}` : u.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
};
const incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) seen.add(source(byId.get(cur)!));
  for (const s of seen) incl.set(s, (incl.get(s) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s of samples over ${((p.endTime - p.startTime) / 1e6).toFixed(2)} s`);
console.log('\nself time by function:');
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(7)}  ${k}`);
console.log('\ninclusive time by source:');
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(7)}  ${k}`);
