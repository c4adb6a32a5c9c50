// Finding 4 of issue #14: rules files built to exhaust the loader. Each must end `validate` and `run` with exit 1
// in under 2 s of CPU, with an error naming the file, line and item (list/macro/rule) where one exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'peregrine-bombs-'));
const rule = (cond: string) => `- rule: r\n  desc: d\n  condition: ${cond}\n  output: o\n  priority: WARNING\n`;

const bombs: { name: string; text?: string; make?: (path: string) => void; expect: RegExp }[] = [
  {
    // 9 lists, each naming the previous ten times: 10^9 items once expanded, in under 700 bytes.
    name: 'list-bomb.yaml',
    text: ['- list: l0\n  items: [a, b, c, d, e, f, g, h, i, j]\n',
      ...Array.from({ length: 8 }, (_, i) => `- list: l${i + 1}\n  items: [${Array(10).fill(`l${i}`).join(', ')}]\n`),
      rule('proc.name in (l8)')].join(''),
    expect: /list-bomb\.yaml:\d+:\d+: list 'l5': .*expands to more than 100000 items/,
  },
  {
    name: 'list-200k.yaml',
    text: `- list: big\n  items: [${Array(200_000).fill('a').join(', ')}]\n- list: big2\n  items: [big]\n${rule('proc.name in (big2)')}`,
    expect: /list-200k\.yaml:2:1: .*more than 50000 YAML list entries/,
  },
  {
    // Each macro names the previous one twice: 2^40 nodes once inlined, in 1.7 KB.
    name: 'macro-bomb.yaml',
    text: ['- macro: m0\n  condition: proc.name = a\n',
      ...Array.from({ length: 39 }, (_, i) => `- macro: m${i + 1}\n  condition: (m${i} or m${i})\n`),
      rule('evt.type = open and m39')].join(''),
    expect: /macro-bomb\.yaml:\d+:\d+: macro 'm17': .*expands to 262143 nodes once macros are inlined/,
  },
  {
    name: 'huge.yaml',
    make: (path) => {
      const fd = openSync(path, 'w');
      writeSync(fd, rule('proc.name = a'));
      ftruncateSync(fd, 100 * 1024 * 1024); // 100 MB (sparse: the check must not read it)
      closeSync(fd);
    },
    expect: /huge\.yaml:0:0: .*rules file is 100\.0 MiB, over the limit of 1 MiB/,
  },
];

/** Runs the CLI under bash and reads the child's CPU time from `times`, so a busy machine does not fail the test. */
function peregrine(args: string[]): Promise<{ code: number | null; stderr: string; cpuSeconds: number }> {
  const script = `"${process.execPath}" "$@"; rc=$?; times >&2; exit $rc`;
  const child = spawn('bash', ['-c', script, 'bash', BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b; });
  return new Promise((resolve) => child.once('exit', (code) => {
    // `times` prints the shell's own times, then its children's: "0m1.012s 0m0.101s".
    const last = stderr.trim().split('\n').at(-1)!;
    const secs = [...last.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
    resolve({ code, stderr, cpuSeconds: secs });
  }));
}

const config = join(dir, 'config.yaml');
writeFileSync(config, 'listenaddress: 127.0.0.1\nlistenport: 0\ndetector:\n  capture:\n    enabled: false\n');

for (const b of bombs) {
  const path = join(dir, b.name);
  if (b.text !== undefined) writeFileSync(path, b.text);
  else b.make!(path);
  for (const command of ['validate', 'run'] as const) {
    test(`${command} refuses ${b.name} with exit 1, naming where, in under 2 s of CPU`, async () => {
      const args = command === 'validate' ? ['validate', '-r', path] : ['run', '-c', config, '-r', path];
      const r = await peregrine(args);
      assert.equal(r.code, 1, r.stderr.slice(-2000));
      assert.match(r.stderr, b.expect);
      assert.ok(r.cpuSeconds < 2, `${command} used ${r.cpuSeconds.toFixed(2)} s of CPU`);
    });
  }
}
