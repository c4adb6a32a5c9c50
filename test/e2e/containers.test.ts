// `peregrine run` with real container runtimes (root): containerd started by the test (ctr containers and a CRI
// pod through crictl) and dockerd on it. The CLI loads Falco's falco_rules.yaml (plus, for published rules outside
// ../shared/falco, test/e2e/rules/container-published-conditions.yaml with the same conditions) and delivers to a
// loopback webhook. Each action has a close miss that must stay silent: it runs first, so by the time the hit's alert
// arrives the miss has been evaluated too (events are evaluated in ring-buffer order).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDetector, type DetectorProcess } from '../support/detector.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { eventually } from '../support/eventually.ts';
import { falcoPath } from '../support/falco-data.ts';
import { Containerd, containerdUnavailable, hexId, IMAGE, IMAGE_REPOSITORY } from '../services/containerd.ts';
import { captureAvailability } from '../../src/capture/index.ts';

type Alert = { rule: string; priority: string; output: string; output_fields: Record<string, unknown>; source: string };

const run = promisify(execFile);
const WAIT_MS = 20_000;
const EXTRA_RULES = fileURLToPath(new URL('./rules/container-published-conditions.yaml', import.meta.url));
const capture = captureAvailability();
// Never skipped: without root or the runtimes the suites fail with the reason (setup.sh --test installs them).
const unavailable = containerdUnavailable() ?? (capture.ok ? undefined : capture.reason);

/** Runs a command on a pseudo-terminal (script(1)), as `docker exec -it` from a terminal would. */
async function onTty(cmd: string[]): Promise<void> {
  const line = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  await run('/usr/bin/script', ['-qec', line, '/dev/null'], { timeout: 30_000 });
}

/** A webhook receiver and the alerts it got, with the helpers every block below uses. */
function alertsOf(hook: () => HttpReceiver, det: () => DetectorProcess) {
  const delivered = (): Alert[] => hook().requests.map((r) => JSON.parse(r.body) as Alert);
  const field = (a: Alert, k: string) => a.output_fields[k];
  const cmdline = (a: Alert) => String(field(a, 'proc.cmdline') ?? '');
  return {
    delivered, field, cmdline,
    async alertAt(rule: string, pred: (a: Alert) => boolean): Promise<Alert> {
      let found: Alert | undefined;
      await eventually(() => {
        found = delivered().find((a) => a.rule === rule && pred(a));
        assert.ok(found, `no '${rule}' alert yet; delivered: ${JSON.stringify(delivered().map((a) => [a.rule, a.output]).slice(-15))}\n${det().output().split('\n').slice(-10).join('\n')}`);
      }, WAIT_MS);
      return found!;
    },
    silent(pred: (a: Alert) => boolean): void {
      const hits = delivered().filter(pred);
      assert.deepEqual(hits.map((a) => [a.rule, a.output]), [], 'the close miss raised nothing');
    },
  };
}

describe('peregrine run with real container runtimes: Falco\'s container rules carry the runtime\'s metadata', () => {
  let rt: Containerd;
  let det: DetectorProcess;
  let hook: HttpReceiver;
  const marker = `pctr${process.pid}`;
  const a = alertsOf(() => hook, () => det);

  before(async () => {
    if (unavailable) throw new Error(unavailable);
    const t0 = performance.now();
    rt = await Containerd.start();
    await rt.startDocker();
    hook = await HttpReceiver.start();
    det = await startDetector({
      config: [
        'webhook:', `  address: ${hook.url}/alerts`,
        'detector:', '  jsonoutput: true', '  rulematching: all',
        'container:',
        `  containerd: { socket: ${rt.socket} }`,
        `  cri: { sockets: [${rt.socket}] }`,
        `  docker: { socket: ${rt.dockerSocket} }`,
        `  podman: { socket: ${rt.dir}/no-podman.sock }`, '',
      ].join('\n'),
      rules: [falcoPath('falco_rules.yaml'), EXTRA_RULES],
    });
    assert.equal(det.captureOff, undefined, 'capture started');
    console.log(`# runtimes and detector ready in ${Math.round(performance.now() - t0)} ms`);
  });

  after(async () => {
    const code = await det?.stop();
    await hook?.close();
    await rt?.stop();
    assert.equal(code, 0);
  });

  /** Alerts of one container (by full id) from events at or after `since` (epoch ms), earliest first. */
  const ofContainer = (id: string, since: number) => a.delivered()
    .filter((x) => x.output_fields['container.id'] === id.slice(0, 12) && Date.parse((x as Alert & { time: string }).time) >= since)
    .sort((p, q) => Date.parse((p as Alert & { time: string }).time) - Date.parse((q as Alert & { time: string }).time));

  test('ctr: a terminal shell exec\'d into a running container (miss: the same shell on the host)', async () => {
    const id = hexId();
    await rt.runCtr({ id, labels: { team: 'blue' } });
    const aSecondLater = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1000));
    await onTty(['/bin/sh', '-c', `: ${marker}-host`]);
    await onTty(['/usr/bin/ctr', '-a', rt.socket, '-n', 'default', 'task', 'exec', '-t', '--exec-id', `sh${process.pid}`, id, 'sh', '-c', `: ${marker}-ctr`]);
    const hit = await a.alertAt('Terminal shell in container', (x) => a.cmdline(x).includes(`${marker}-ctr`));
    assert.equal(a.field(hit, 'container.id'), id.slice(0, 12));
    assert.equal(a.field(hit, 'container.image.repository'), IMAGE_REPOSITORY);
    assert.equal(a.field(hit, 'container.image.tag'), 'e2e');
    // containerd has no container names: Falco's plugin shows the short id.
    assert.equal(a.field(hit, 'container.name'), id.slice(0, 12));
    assert.ok(Number(a.field(hit, 'proc.tty')) > 0, 'a terminal');
    a.silent((x) => a.cmdline(x).includes(`${marker}-host`));
    // Started a second before: its metadata is there from its first alert on (the container's own start may
    // precede its metadata).
    const first = ofContainer(id, aSecondLater)[0]!;
    assert.equal(a.field(first, 'container.image.repository'), IMAGE_REPOSITORY, `first alert of the container: ${first.output}`);
  });

  test('CRI: a terminal shell in a pod\'s container carries the pod\'s name and namespace', async () => {
    const { containerId } = await rt.runPod({ name: `web-${process.pid}`, namespace: 'shop', uid: 'uid-e2e', container: 'app', labels: { app: 'web' } });
    const aSecondLater = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1000));
    await onTty([`${process.env.PEREGRINE_TOOLS ?? '/opt/peregrine-tools'}/bin/crictl`, '--runtime-endpoint', `unix://${rt.socket}`, 'exec', '-it', containerId, 'sh', '-c', `: ${marker}-cri`]);
    const hit = await a.alertAt('Terminal shell in container', (x) => a.cmdline(x).includes(`${marker}-cri`));
    assert.equal(a.field(hit, 'container.id'), containerId.slice(0, 12));
    assert.equal(a.field(hit, 'container.name'), 'app');
    assert.equal(a.field(hit, 'container.image.repository'), IMAGE_REPOSITORY);
    assert.equal(a.field(hit, 'k8s.pod.name'), `web-${process.pid}`);
    assert.equal(a.field(hit, 'k8s.ns.name'), 'shop');
    const first = ofContainer(containerId, aSecondLater)[0]!;
    assert.equal(a.field(first, 'k8s.pod.name'), `web-${process.pid}`, `first alert of the container: ${first.output}`);
  });

  test('Docker: a terminal shell via docker exec -it carries the container\'s name and image', async () => {
    const name = `shop-${process.pid}`;
    const id = await rt.docker(['run', '-d', '--name', name, IMAGE, 'sleep', '3600']);
    const aSecondLater = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1000));
    await onTty(['/usr/bin/docker', '-H', `unix://${rt.dockerSocket}`, 'exec', '-it', name, 'sh', '-c', `: ${marker}-docker`]);
    const hit = await a.alertAt('Terminal shell in container', (x) => a.cmdline(x).includes(`${marker}-docker`));
    assert.equal(a.field(hit, 'container.id'), id.slice(0, 12));
    assert.equal(a.field(hit, 'container.name'), name);
    assert.equal(a.field(hit, 'container.image.repository'), IMAGE_REPOSITORY);
    assert.equal(a.field(hit, 'k8s.pod.name'), null, 'no pod: <NA> (null in JSON)');
    const first = ofContainer(id, aSecondLater)[0]!;
    assert.equal(a.field(first, 'container.name'), name, `first alert of the container: ${first.output}`);
  });

  test('a privileged container with /etc mounted: the privileged and sensitive-mount rules fire, debugfs in it too (miss: unprivileged, no host mount)', async () => {
    const plain = hexId();
    const priv = hexId();
    await rt.runCtr({ id: plain });
    await rt.runCtr({ id: priv, privileged: true, mounts: [{ src: '/etc', dst: '/host/etc' }] });
    // busybox under the name debugfs (a symlink, so the file is the image's: no drop-and-execute).
    for (const id of [plain, priv]) await rt.execCtr(id, ['sh', '-c', `ln -sf /bin/busybox /root/debugfs; /root/debugfs ${marker}-dbg || true`]);
    const launched = await a.alertAt('Launch Privileged Container', (x) => x.output_fields['container.id'] === priv.slice(0, 12));
    assert.equal(a.field(launched, 'container.image.repository'), IMAGE_REPOSITORY);
    const mount = await a.alertAt('Launch Sensitive Mount Container', (x) => x.output_fields['container.id'] === priv.slice(0, 12));
    assert.match(String(a.field(mount, 'container.mounts')), /(^|,)\/etc:\/host\/etc::false:/);
    assert.equal(a.field(mount, 'container.mount.dest[/etc]'), '/host/etc', 'the mount whose source matches /etc');
    const dbg = await a.alertAt('Debugfs Launched in Privileged Container', (x) => a.cmdline(x).includes(`${marker}-dbg`));
    assert.equal(a.field(dbg, 'container.id'), priv.slice(0, 12));
    a.silent((x) => x.output_fields['container.id'] === plain.slice(0, 12) && ['Launch Privileged Container', 'Debugfs Launched in Privileged Container'].includes(x.rule));
    // The published sensitive_mount macro is "not container.mount.dest[X] in (<NA>, N/A)" over a dozen X: a mount
    // the pattern does not select has no value, so "not … in" holds and the rule fires for every container start,
    // in Falco with its container plugin as here. The miss's alert shows its dest[/etc] has no value.
    const missMount = await a.alertAt('Launch Sensitive Mount Container', (x) => x.output_fields['container.id'] === plain.slice(0, 12));
    assert.equal(a.field(missMount, 'container.mount.dest[/etc]'), null);
  });

  test('a binary written into the container\'s upper layer and run: drop and execute (miss: the image\'s own busybox)', async () => {
    const id = hexId();
    await rt.runCtr({ id });
    // busybox picks its applet by file name: the copy is called "true".
    await rt.execCtr(id, ['sh', '-c', `/bin/busybox true ${marker}-image; cp /bin/busybox /root/true; /root/true ${marker}-dropped`]);
    const hit = await a.alertAt('Drop and execute new binary in container', (x) => a.cmdline(x).includes(`${marker}-dropped`));
    assert.equal(a.field(hit, 'container.id'), id.slice(0, 12));
    assert.equal(a.field(hit, 'proc.exepath'), '/root/true');
    assert.notEqual(a.field(hit, 'container.start_ts'), null, 'the rule\'s output names container.start_ts: from the runtime');
    a.silent((x) => x.rule === 'Drop and execute new binary in container' && a.cmdline(x).includes(`${marker}-image`));
  });

  test('unshare in an unprivileged container carries its reduced capabilities (miss: a privileged container)', async () => {
    const plain = hexId();
    const priv = hexId();
    await rt.runCtr({ id: plain });
    await rt.runCtr({ id: priv, privileged: true });
    await rt.execCtr(priv, ['sh', '-c', `unshare -n true ${marker}-privileged || true`]);
    await rt.execCtr(plain, ['sh', '-c', `unshare -n true ${marker}-plain || true`]);
    const hit = await a.alertAt('Change namespace privileges via unshare', (x) => x.output_fields['container.id'] === plain.slice(0, 12));
    const caps = String(a.field(hit, 'thread.cap_permitted'));
    assert.doesNotMatch(caps, /CAP_SYS_ADMIN/);
    assert.match(caps, /CAP_CHOWN/, `the container's default set: ${caps}`);
    a.silent((x) => x.rule === 'Change namespace privileges via unshare' && x.output_fields['container.id'] === priv.slice(0, 12));
  });

  test('time to fill is a metric', async () => {
    const metrics = await (await fetch(`${det.url}/metrics`)).text();
    assert.match(metrics, /peregrine_container_metadata_fill_seconds_count\{runtime="containerd"\} [1-9]/);
    assert.match(metrics, /peregrine_container_metadata_fill_seconds_count\{runtime="docker"\} [1-9]/);
    // A CRI container is first filled through containerd's API (containerd's create event comes before the CRI
    // plugin has it), then refreshed through the CRI on task start.
    assert.match(metrics, /peregrine_container_metadata_lookups_total\{runtime="cri:[^"]+",result="found"\} [1-9]/);
  });
});

describe('peregrine run when the runtimes are down: <NA> fields, one log line each, alerts still flow', () => {
  let rt: Containerd;
  let det: DetectorProcess;
  let hook: HttpReceiver;
  const marker = `pdown${process.pid}`;
  const a = alertsOf(() => hook, () => det);

  before(async () => {
    if (unavailable) throw new Error(unavailable);
    rt = await Containerd.start();
    hook = await HttpReceiver.start();
    // Every runtime socket points where nothing listens: the runtime that runs the containers is "down" for it.
    det = await startDetector({
      config: [
        'webhook:', `  address: ${hook.url}/alerts`,
        'detector:', '  jsonoutput: true', '  rulematching: all',
        'container:',
        `  containerd: { socket: ${rt.dir}/down.sock }`, `  cri: { sockets: [${rt.dir}/down.sock] }`,
        `  docker: { socket: ${rt.dir}/down-docker.sock }`, `  podman: { socket: ${rt.dir}/down-podman.sock }`, '',
      ].join('\n'),
      rules: [falcoPath('falco_rules.yaml')],
    });
  });

  after(async () => {
    await det?.stop();
    await hook?.close();
    await rt?.stop();
  });

  test('two shells in two containers: container.id from the cgroup, the rest <NA>, containerd logged once', async () => {
    for (const n of [1, 2]) {
      const id = hexId();
      await rt.runCtr({ id });
      const started = performance.now();
      await onTty(['/usr/bin/ctr', '-a', rt.socket, '-n', 'default', 'task', 'exec', '-t', '--exec-id', `sh${n}`, id, 'sh', '-c', `: ${marker}-${n}`]);
      const hit = await a.alertAt('Terminal shell in container', (x) => a.cmdline(x).includes(`${marker}-${n}`));
      assert.ok(performance.now() - started < 10_000, 'evaluation did not wait on the runtime');
      assert.equal(a.field(hit, 'container.id'), id.slice(0, 12));
      assert.equal(a.field(hit, 'container.name'), null);
      assert.equal(a.field(hit, 'container.image.repository'), null);
    }
    const down = det.logs.filter((l) => l.msg === 'container runtime is not reachable; container fields it would fill read <NA> until it is');
    const byRuntime = new Map<string, number>();
    for (const l of down) byRuntime.set(String(l.runtime), (byRuntime.get(String(l.runtime)) ?? 0) + 1);
    assert.equal(byRuntime.get('containerd'), 1, `containerd's absence logged once: ${JSON.stringify(down)}`);
    for (const [runtime, n] of byRuntime) assert.equal(n, 1, `${runtime} logged once`);
  });
});
