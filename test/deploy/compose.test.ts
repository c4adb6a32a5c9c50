import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { ROOT, run, tool } from './tools.ts';

describe('docker compose stack', () => {
  test('docker-compose config validates', () => {
    const r = run(tool('docker-compose'), ['-f', 'docker-compose.yml', 'config', '-q']);
    assert.equal(r.status, 0, r.stderr);
  });
  test('services and mounts exist; the mounted config loads', () => {
    const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')) as { services: Record<string, { volumes?: string[]; ports?: string[] }> };
    assert.deepEqual(Object.keys(compose.services).sort(), ['kafka', 'nats', 'peregrine', 'receiver', 'sns']);
    const peregrine = compose.services.peregrine! as { ports?: string[]; command?: string[]; privileged?: boolean; pid?: string };
    assert.deepEqual(peregrine.ports, ['2801:2801']);
    assert.deepEqual(peregrine.command, ['run', '-c', '/etc/peregrine/config.yaml']);
    assert.equal(peregrine.privileged, true);
    assert.equal(peregrine.pid, 'host');
    for (const v of Object.values(compose.services).flatMap((s) => s.volumes ?? [])) {
      const host = v.split(':')[0]!;
      if (host.startsWith('/sys/') || host === '/var/run/docker.sock') continue; // the host's kernel and Docker, not repository files
      if (/^[a-z][a-z0-9_-]*$/.test(host)) continue; // a named volume (state), declared under volumes:
      assert.notEqual(run('git', ['ls-files', '--', host]).stdout.trim(), '', `compose mounts ${host}, which is not in the repository`);
    }
    const config = loadConfig({ env: {}, file: `${ROOT}deploy/compose-config.yaml` });
    assert.match((config.webhook as { address: string }).address, /receiver:8080/);
    assert.ok(compose.services.peregrine!.volumes!.some((v) => v.endsWith(':/var/lib/peregrine')), 'the spool (/var/lib/peregrine/spool) is on a named volume');
    // Docker's socket, read-only, where the detector looks for it by default (container.docker.socket "").
    assert.ok(compose.services.peregrine!.volumes!.includes('/var/run/docker.sock:/var/run/docker.sock:ro'));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
  const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  test('multi-stage, non-root runtime, healthcheck, router by default', () => {
    assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\/healthz/m);
    assert.match(dockerfile, /^CMD \["route"\]$/m);
    assert.match(dockerfile, /^EXPOSE 2801$/m);
  });
  test('every COPY source from the build context exists and is not ignored', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)).filter((s) => s !== '.');
    assert.ok(sources.length >= 5);
    for (const src of sources) {
      // Tracked by git: an empty directory on this machine would not exist in a user's clone.
      assert.notEqual(run('git', ['ls-files', '--', src]).stdout.trim(), '', `COPY ${src}: not in the repository`);
      assert.ok(!ignored.includes(src), `COPY ${src}: excluded by .dockerignore`);
    }
  });
});
