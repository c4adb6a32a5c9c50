// Without the eBPF toolchain or the built addon, installing and running still work and say once what is
// missing: npm's install hook (native/install.sh) and `peregrine run` from a tree without the addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('the install hook without clang, bpftool or libbpf: one line naming what is missing, exit 0', () => {
  const bin = mkdtempSync(join(tmpdir(), 'pg-nobpf-'));
  try {
    // A PATH with a shell and npm but none of the BPF toolchain.
    for (const tool of ['sh', 'npm', 'node']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(bin, tool));
    }
    const r = spawnSync('sh', [join(ROOT, 'native/install.sh')], { cwd: ROOT, encoding: 'utf8', env: { PATH: bin, PEREGRINE_BTF: '/nonexistent' } });
    assert.equal(r.status, 0);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0]!, /^peregrine: eBPF addon not built, missing: clang bpftool make cc python3( libbpf-dev)?( libelf-dev)?( zlib1g-dev)? kernel-BTF\(\/nonexistent\); kernel capture stays off/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('peregrine run from a tree without the built addon: one clear log line, audit and HTTP inputs still served', async () => {
  const tree = mkdtempSync(join(tmpdir(), 'pg-noaddon-'));
  try {
    for (const d of ['bin', 'src', 'outputs', 'config']) cpSync(join(ROOT, d), join(tree, d), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
    mkdirSync(join(tree, 'native'));
    writeFileSync(join(tree, 'c.yaml'), 'listenaddress: 127.0.0.1\nlistenport: 0\n');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(tree, 'bin/peregrine'), 'run', '-c', join(tree, 'c.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (b: Buffer) => { log += b.toString(); });
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not ready:\n${log}`)), 30_000);
      child.stderr.on('data', () => {
        const m = /"msg":"router listening".*?"port":(\d+)|"port":(\d+).*?"msg":"router listening"/.exec(log);
        if (m && /kernel capture is off/.test(log)) { clearTimeout(t); resolve(Number(m[1] ?? m[2])); }
      });
    });
    const off = log.split('\n').filter((l) => l.includes('kernel capture is off'));
    assert.equal(off.length, 1, log);
    assert.match(off[0]!, /the eBPF addon is not built \(.*native\/build\/Release\/peregrine\.node is missing; run npm run build:native\)/);
    const res = await fetch(`http://127.0.0.1:${port}/k8s-audit`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', items: [] }) });
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    assert.equal(await new Promise((r) => child.once('exit', r)), 0);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});

// Run as root like the other capture tests: it drops to nobody for the child.
test('capture availability as an unprivileged user: one reason naming root, no attempt to load', () => {
  const code = `import { captureAvailability } from ${JSON.stringify(join(ROOT, 'src/capture/index.ts'))};\nprocess.stdout.write(JSON.stringify(captureAvailability()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: false, reason: 'kernel capture needs root (or CAP_BPF+CAP_PERFMON)' });
});
