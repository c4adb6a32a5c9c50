// `peregrine run` end to end for the syscall source, as root on the real kernel: the CLI process runs
// `-r falco_rules.yaml` (Falco's stock rules, which replace Peregrine's defaults as Falco's -r does), with
// rule_matching first and then all; this test does real things on the host (read /etc/shadow, spawn a shell
// from a program named nginx, ptrace, memfd exec, a shell in a cgroup named like a Docker container …), and
// each alert must arrive at a loopback webhook receiver and at a Slack-format receiver with Falco's rule
// name, priority and fields. Each action has a close miss that must stay silent: it runs first, so by the
// time the hit's alert arrives the miss has been evaluated too (events are evaluated in ring-buffer order).
// Peregrine's own defaults get a short run of their own (no rules given).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDetector, type DetectorProcess } from '../support/detector.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { eventually } from '../support/eventually.ts';
import { falcoPath } from '../support/falco-data.ts';
import { captureAvailability } from '../../src/capture/index.ts';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

type Alert = { rule: string; priority: string; output: string; output_fields: Record<string, unknown>; source: string };
type SlackField = { title: string; value: string };
type SlackMessage = { attachments: { text?: string; fields: SlackField[] }[] };

const PY = '/usr/bin/python3';
// A bound, not a sleep: under a full parallel `npm test` on 2 cores the first alert of a fresh detector has taken >15 s.
const WAIT_MS = 40_000;

// Slack allows ~1 message/s, so only the rules this test raises go there (a per-output filter).
const SLACK_RULES = ['Read sensitive file untrusted', 'Run shell untrusted', 'Terminal shell in container', 'Fileless execution via memfd_create'];

// Peregrine's default rules that look like Falco's: with -r they must not load, let alone shadow Falco's.
const PEREGRINE_RULES = ['Read shadow file by untrusted program', 'Write below etc', 'Process injection with ptrace', 'Fileless execution', 'Shell spawned in container'];

const availability = captureAvailability();
/** Published Falco rules outside ../shared/falco, restated with their conditions (see the file's header). */
const PUBLISHED_RULES = fileURLToPath(new URL('./fixtures/falco-published-rules.yaml', import.meta.url));
const NOBODY = 65534;

for (const matching of ['first', 'all'] as const) describe(`peregrine run -r falco_rules.yaml (rule_matching: ${matching}): real syscalls raise Falco's rules at the webhook and in Slack`, () => {
  let det: DetectorProcess;
  let hook: HttpReceiver;
  let slack: HttpReceiver;
  let work: string;
  const marker = `pe2e${process.pid}`;

  before(async () => {
    assert.ok(availability.ok, `kernel capture must be available for this test (run as root with BTF): ${availability.ok ? '' : availability.reason}`);
    work = mkdtempSync(join(tmpdir(), 'peregrine-e2e-'));
    hook = await HttpReceiver.start();
    slack = await HttpReceiver.start();
    det = await startDetector({
      config: [
        'webhook:', `  address: ${hook.url}/alerts`,
        'slack:', `  webhookurl: ${slack.url}/services/T000/B000/XXX`, `  rules: ${JSON.stringify(SLACK_RULES)}`,
        'detector:', '  jsonoutput: true', `  rulematching: ${matching}`, '',
      ].join('\n'),
      rules: [falcoPath('falco_rules.yaml'), PUBLISHED_RULES],
    });
    assert.equal(det.captureOff, undefined, 'capture started');
    assert.deepEqual(det.logs.find((l) => l.msg === 'rules loaded')?.files, [falcoPath('falco_rules.yaml'), PUBLISHED_RULES], '-r replaced the defaults');
    // The start line lists what the kernel side attached, including the syscalls these rules need.
    const started = det.logs.find((l) => l.msg === 'kernel capture started')?.eventTypes as string[];
    for (const t of ['execve', 'openat', 'fchmodat', 'userfaultfd', 'bpf', 'recvfrom', 'connect']) assert.ok(started.includes(t), `${t} attached: ${started.join(',')}`);
  });

  after(async () => {
    const code = await det?.stop();
    await hook?.close();
    await slack?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    assert.equal(code, 0);
  });

  /** Alerts delivered to the webhook so far. */
  const delivered = (): Alert[] => hook.requests.map((r) => JSON.parse(r.body) as Alert);
  const field = (a: Alert, k: string) => a.output_fields[k];

  /**
   * Waits for an alert of `rule` matching `pred` on stdout (printed in evaluation order) and at the
   * webhook; returns the delivered one.
   */
  async function alertAt(rule: string, pred: (a: Alert) => boolean): Promise<Alert> {
    let found: Alert | undefined;
    await eventually(() => {
      found = delivered().find((a) => a.rule === rule && pred(a));
      assert.ok(found, `no '${rule}' alert yet; delivered: ${JSON.stringify(delivered().map((a) => [a.rule, a.output]).slice(-20))}`);
      assert.ok((det.alerts as Alert[]).some((a) => a.rule === rule && pred(a)), `'${rule}' not printed on stdout`);
    }, WAIT_MS);
    return found!;
  }

  /**
   * Asserts that no alert matches `pred`, on stdout or at the webhook. Called after the hit's alert was
   * printed: stdout is in evaluation order and the miss's events came first.
   */
  function silent(pred: (a: Alert) => boolean) {
    const hits = [...delivered(), ...(det.alerts as Alert[])].filter(pred);
    assert.deepEqual(hits.map((a) => `${a.rule}: ${a.output}`), [], 'the close miss raised alerts');
  }

  /** Waits for the Slack receiver to get this rule's message whose fields satisfy `pred`. */
  async function slackGot(rule: string, priority: string, pred: (fields: Map<string, string>) => boolean) {
    await eventually(() => {
      const msgs = slack.requests.map((r) => JSON.parse(r.body) as SlackMessage);
      const hit = msgs.some((m) => m.attachments.some((at) => {
        const f = new Map(at.fields.map((x) => [x.title, x.value]));
        return f.get('rule') === rule && f.get('priority') === priority && pred(f) && typeof at.text === 'string' && at.text.length > 0;
      }));
      assert.ok(hit, `no Slack message for '${rule}' yet (${slack.requests.length} received)`);
    }, WAIT_MS + 20_000);
  }

  function run(file: string, args: string[], opts: SpawnSyncOptions = {}) {
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 20_000, ...opts });
    if (r.error) throw r.error;
    return r;
  }

  /** A copy of a system binary under the work dir, so proc.name / proc.exepath are ours. */
  function copyOf(bin: string, name: string, dir = work): string {
    const p = join(dir, name);
    copyFileSync(bin, p);
    run('/bin/chmod', ['0755', p]);
    return p;
  }

  test('reading /etc/shadow from an untrusted program (miss: the same program reads /etc/hostname)', async () => {
    const reader = copyOf('/bin/cat', 'cfgdump');
    run(reader, ['/etc/hostname']);
    run(reader, ['/etc/shadow']);
    const a = await alertAt('Read sensitive file untrusted', (x) => field(x, 'proc.exepath') === reader);
    assert.equal(a.priority, 'Warning');
    assert.equal(a.source, 'syscall');
    assert.equal(field(a, 'fd.name'), '/etc/shadow');
    assert.equal(field(a, 'proc.name'), 'cfgdump');
    assert.equal(field(a, 'user.name'), 'root');
    assert.equal(field(a, 'evt.type'), 'openat');
    // The controlling terminal is inherited from this process (0 when there is none).
    assert.equal(field(a, 'proc.tty'), Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[4]));
    assert.match(a.output, /^\d\d:\d\d:\d\d\.\d{9}: Warning Sensitive file opened for reading by non-trusted program \| file=\/etc\/shadow /);
    silent((x) => field(x, 'proc.exepath') === reader && field(x, 'fd.name') === '/etc/hostname');
    await slackGot('Read sensitive file untrusted', 'Warning', (f) => f.get('fd.name') === '/etc/shadow' && f.get('proc.exepath') === reader);
  });

  test('a shell spawned by a program named nginx (miss: the same by a program named notaserver)', async () => {
    const server = copyOf('/bin/sh', 'nginx');
    const other = copyOf('/bin/sh', 'notaserver');
    // Two commands, so the outer shell forks the inner one instead of exec'ing it.
    run(other, ['-c', `sh -c ': ${marker}-miss'; :`]);
    run(server, ['-c', `sh -c ': ${marker}-web'; :`]);
    const a = await alertAt('Run shell untrusted', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-web`));
    assert.equal(a.priority, 'Notice');
    assert.equal(field(a, 'proc.name'), 'sh');
    assert.equal(field(a, 'proc.pname'), 'nginx');
    assert.equal(field(a, 'evt.type'), 'execve');
    silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-miss`));
    await slackGot('Run shell untrusted', 'Notice', (f) => f.get('proc.pname') === 'nginx');
  });

  test('a symlink and a hardlink over /etc/shadow (miss: links to /etc/hostname)', async () => {
    run('/bin/ln', ['-s', '/etc/hostname', join(work, `${marker}-soft-miss`)]);
    run('/bin/ln', ['/etc/hostname', join(work, `${marker}-hard-miss`)]);
    run('/bin/ln', ['-s', '/etc/shadow', join(work, `${marker}-soft`)]);
    run('/bin/ln', ['/etc/shadow', join(work, `${marker}-hard`)]);
    const soft = await alertAt('Create Symlink Over Sensitive Files', (x) => field(x, 'evt.arg.linkpath') === join(work, `${marker}-soft`));
    assert.equal(soft.priority, 'Warning');
    assert.equal(field(soft, 'evt.arg.target'), '/etc/shadow');
    assert.match(String(field(soft, 'evt.type')), /^symlink(at)?$/);
    const hard = await alertAt('Create Hardlink Over Sensitive Files', (x) => field(x, 'evt.arg.newpath') === join(work, `${marker}-hard`));
    assert.equal(hard.priority, 'Warning');
    assert.equal(field(hard, 'evt.arg.oldpath'), '/etc/shadow');
    silent((x) => [field(x, 'evt.arg.linkpath'), field(x, 'evt.arg.newpath')].some((p) => String(p).endsWith('-miss')));
  });

  test('a directory traversal read of a file in /etc (miss: a traversal that ends outside /etc)', async () => {
    const up = work.split('/').filter(Boolean).map(() => '..').join('/');
    const missPath = `${work}/../${work.split('/').pop()}/../${work.split('/').pop()}/${marker}.conf`;
    writeFileSync(join(work, `${marker}.conf`), 'x');
    run('/bin/cat', [missPath]);
    const hitPath = `${work}/${up}/etc/../etc/hostname`;
    run('/bin/cat', [hitPath]);
    const a = await alertAt('Directory traversal monitored file read', (x) => field(x, 'fd.nameraw') === hitPath);
    assert.equal(a.priority, 'Warning');
    assert.equal(field(a, 'fd.name'), '/etc/hostname');
    assert.equal(field(a, 'proc.name'), 'cat');
    silent((x) => field(x, 'fd.nameraw') === missPath);
  });

  test('ptrace PTRACE_ATTACH to another process (miss: PTRACE_PEEKDATA without attaching)', async () => {
    const target = String(run('/bin/sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']).stdout).trim();
    try {
      const py = (request: number, tag: string) => run(PY, ['-c', [
        'import ctypes, sys',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]',
        `libc.ptrace(${request}, ${target}, None, None)`,
        `if ${request} == 16: libc.ptrace(17, ${target}, None, None)`,
      ].join('\n'), tag]);
      py(2, `${marker}-peek`);
      py(16, `${marker}-attach`);
      const a = await alertAt('PTRACE attached to process', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-attach`));
      assert.equal(a.priority, 'Warning');
      assert.equal(field(a, 'evt.type'), 'ptrace');
      silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-peek`));
    } finally {
      process.kill(Number(target), 'SIGKILL');
    }
  });

  test('execution from /dev/shm (miss: the same binary run from the work dir)', async () => {
    const shmBin = `/dev/shm/${marker}-run`;
    try {
      const local = copyOf('/bin/true', `${marker}-run`);
      copyOf('/bin/true', `${marker}-run`, '/dev/shm');
      run(local, []);
      run(shmBin, []);
      const a = await alertAt('Execution from /dev/shm', (x) => field(x, 'proc.exepath') === shmBin);
      assert.equal(a.priority, 'Warning');
      assert.equal(field(a, 'evt.type'), 'execve');
      silent((x) => field(x, 'proc.exepath') === local);
    } finally {
      rmSync(shmBin, { force: true });
    }
  });

  test('fileless execution of a memfd_create file (miss: the same program exec\'d from a file)', async () => {
    const onDisk = copyOf('/bin/true', `${marker}-disk`);
    const exec = (how: 'memfd' | 'file', tag: string) => run(PY, ['-c', [
      'import os',
      how === 'memfd'
        ? `fd = os.memfd_create("payload", 0)\nos.write(fd, open("/bin/true", "rb").read())\npath = "/proc/self/fd/%d" % fd`
        : `path = ${JSON.stringify(onDisk)}`,
      `os.execv(path, ["payload", ${JSON.stringify(tag)}])`,
    ].join('\n')]);
    exec('file', `${marker}-file`);
    exec('memfd', `${marker}-memfd`);
    const a = await alertAt('Fileless execution via memfd_create', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-memfd`));
    assert.equal(a.priority, 'Critical');
    assert.equal(field(a, 'evt.type'), 'execve');
    // As Falco names it (its known_memfd_execution_processes macro matches "memfd:runc_cloned:/proc/self/exe").
    assert.equal(field(a, 'proc.exepath'), 'memfd:payload');
    silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-file`));
    await slackGot('Fileless execution via memfd_create', 'Critical', (f) => (f.get('proc.cmdline') ?? '').includes(`${marker}-memfd`));
  });

  test('a terminal shell in a process placed in a Docker-named cgroup (miss: the same shell on the host)', async () => {
    const id = marker.replace(/[^0-9a-f]/g, 'a').padEnd(64, '0').slice(0, 64);
    // Where Docker on a cgroup v1 host (like this one) puts a container: docker/<id> in each hierarchy.
    const cgroups = ['memory', 'pids'].map((h) => `/sys/fs/cgroup/${h}/docker/${id}`);
    assert.ok(existsSync('/sys/fs/cgroup/memory') && existsSync('/sys/fs/cgroup/pids'), 'this test needs the cgroup v1 memory and pids hierarchies (as on the CI machine)');
    for (const cg of cgroups) mkdirSync(cg, { recursive: true });
    // A program named runc (a container entrypoint) starts sh on a pseudo-terminal, optionally after
    // moving itself into the container's cgroups, like `docker exec -it`.
    const runc = copyOf(PY, 'runc');
    const shell = (into: string[], tag: string) => run(runc, ['-c', [
      'import os, pty',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      `    for cg in ${JSON.stringify(into)}: open(cg + "/cgroup.procs", "w").write(str(os.getpid()))`,
      `    os.execv("/bin/sh", ["sh", "-c", ": ${tag}"])`,
      'while True:',
      '    try:',
      '        if not os.read(fd, 1024): break',
      '    except OSError: break',
      'os.waitpid(pid, 0)',
    ].join('\n')]);
    try {
      shell([], `${marker}-host`);
      shell(cgroups, `${marker}-ctr`);
      const a = await alertAt('Terminal shell in container', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-ctr`));
      assert.equal(a.priority, 'Notice');
      assert.equal(field(a, 'proc.pname'), 'runc');
      assert.ok(Number(field(a, 'proc.tty')) > 0, 'a pseudo-terminal');
      assert.equal(field(a, 'container.id'), id.slice(0, 12));
      silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-host`));
      await slackGot('Terminal shell in container', 'Notice', (f) => (f.get('proc.cmdline') ?? '').includes(`${marker}-ctr`));
    } finally {
      for (const cg of cgroups) rmdirSync(cg);
    }
  });

  test('a process started with GLIBC_TUNABLES in its environment (miss: another variable)', async () => {
    run('/usr/bin/env', [`PEREGRINE_OTHER=${marker}`, '/bin/sh', '-c', `: ${marker}-envmiss`]);
    run('/usr/bin/env', ['GLIBC_TUNABLES=glibc.malloc.check=0', '/bin/sh', '-c', `: ${marker}-env`]);
    const rule = 'Potential Local Privilege Escalation via Environment Variables Misuse';
    const a = await alertAt(rule, (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-env`));
    assert.equal(a.priority, 'Notice');
    assert.match(String(field(a, 'proc.env')), /(^| )GLIBC_TUNABLES=glibc\.malloc\.check=0( |$)/);
    silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-envmiss`));
  });

  test('chmod u+s: evt.arg.mode names S_ISUID as libs does (miss: chmod u+x)', async () => {
    const miss = join(work, `${marker}-x`);
    const hit = join(work, `${marker}-s`);
    writeFileSync(miss, '');
    writeFileSync(hit, '');
    run('/bin/chmod', ['0644', miss, hit]);
    run('/bin/chmod', ['u+x', miss]);
    run('/bin/chmod', ['u+s', hit]);
    const a = await alertAt('Set Setuid or Setgid bit', (x) => String(field(x, 'evt.arg.filename')).endsWith(`${marker}-s`));
    assert.equal(a.priority, 'Notice');
    assert.equal(field(a, 'evt.arg.mode'), 'S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_ISUID');
    silent((x) => String(field(x, 'evt.arg.filename')).endsWith(`${marker}-x`));
  });

  test('userfaultfd by an unprivileged user (miss: the same call as root)', async () => {
    // UFFD_USER_MODE_ONLY (1) lets an unprivileged user create one even with vm.unprivileged_userfaultfd = 0.
    const uffd = (tag: string, asNobody: boolean) => run(PY, ['-c', [
      'import ctypes, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'fd = libc.syscall(323, 1)',
      'sys.exit(0 if fd >= 0 else 3)',
    ].join('\n'), tag], asNobody ? { uid: NOBODY, gid: NOBODY, cwd: '/' } : {});
    assert.equal(uffd(`${marker}-uffd-root`, false).status, 0, 'userfaultfd as root');
    assert.equal(uffd(`${marker}-uffd`, true).status, 0, 'userfaultfd as nobody');
    const a = await alertAt('Unprivileged Delegation of Page Faults Handling to a Userspace Process', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-uffd`) && !String(field(x, 'proc.cmdline')).includes('-root'));
    assert.equal(a.priority, 'Critical');
    assert.equal(field(a, 'user.name'), 'nobody');
    assert.equal(field(a, 'evt.type'), 'userfaultfd');
    silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-uffd-root`));
  });

  test('bpf(BPF_PROG_LOAD) by a program not profiled (miss: BPF_MAP_CREATE)', async () => {
    const bpf = (cmd: number, tag: string) => run(PY, ['-c', [
      'import ctypes',
      'libc = ctypes.CDLL(None, use_errno=True)',
      `libc.syscall(321, ${cmd}, None, 0)`,
    ].join('\n'), tag]);
    bpf(0, `${marker}-bpfmap`);
    bpf(5, `${marker}-bpfprog`);
    const a = await alertAt('BPF Program Not Profiled', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-bpfprog`));
    assert.equal(field(a, 'evt.arg.cmd'), 'BPF_PROG_LOAD');
    silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-bpfmap`));
  });

  test('a java process receiving a class file over TCP: recvfrom with its data (miss: other bytes)', async () => {
    const server = createServer((sock) => {
      sock.once('data', (d) => {
        const payload = d.toString() === 'class' ? Buffer.from('cafebabe0000003d00', 'hex') : Buffer.from('plain text reply');
        sock.end(payload);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const java = copyOf(PY, 'java');
      // Asynchronously: the server runs on this test's event loop.
      const fetchWith = (ask: string, tag: string) => new Promise<number | null>((resolve, reject) => {
        const child = spawn(java, ['-c', [
          'import socket',
          `s = socket.create_connection(("127.0.0.1", ${port}))`,
          `s.sendall(b"${ask}")`,
          's.recv(100)',
        ].join('\n'), tag], { stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', resolve);
      });
      assert.equal(await fetchWith('text', `${marker}-plain`), 0);
      assert.equal(await fetchWith('class', `${marker}-class`), 0);
      const a = await alertAt('Java Process Class File Download', (x) => String(field(x, 'proc.cmdline')).includes(`${marker}-class`));
      assert.equal(a.priority, 'Critical');
      assert.equal(field(a, 'evt.type'), 'recvfrom');
      // The received bytes as libsinsp prints a buffer: printable ASCII, anything else as '.'.
      assert.equal(field(a, 'evt.buffer'), '.......=.');
      assert.match(String(field(a, 'fd.name')), new RegExp(`^127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}$`));
      silent((x) => String(field(x, 'proc.cmdline')).includes(`${marker}-plain`));
    } finally {
      server.close();
    }
  });

  test('no Peregrine default rule ran (they were not loaded)', () => {
    silent((x) => PEREGRINE_RULES.includes(x.rule));
  });

  test('/metrics counts the syscall events and the alerts by rule', async () => {
    const metrics = await (await fetch(`${det.url}/metrics`)).text();
    const events = Number(/peregrine_events_total\{source="syscall"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(events > 0, 'syscall events counted');
    assert.match(metrics, /peregrine_alerts_total\{rule="Read sensitive file untrusted",priority="Warning",source="syscall"\} [1-9]/);
  });
});

describe('peregrine run with no rules given: Peregrine\'s defaults run', () => {
  test('a write below /etc raises "Write below etc" (miss: the same write below a temporary dir)', async () => {
    assert.ok(availability.ok, 'kernel capture must be available for this test');
    const hook = await HttpReceiver.start();
    const det = await startDetector({ config: `webhook:\n  address: ${hook.url}/alerts\ndetector:\n  jsonoutput: true\n` });
    const work = mkdtempSync(join(tmpdir(), 'peregrine-e2e-'));
    const marker = `pdef${process.pid}`;
    const etcFile = `/etc/${marker}.conf`;
    try {
      assert.equal(det.captureOff, undefined, 'capture started');
      const files = det.logs.find((l) => l.msg === 'rules loaded')?.files as string[];
      assert.ok(files.length > 0 && files.every((f) => f.includes('/config/rules/')), `the defaults: ${files.join(', ')}`);
      const writer = join(work, 'cfgtouch');
      copyFileSync('/usr/bin/touch', writer);
      spawnSync('/bin/chmod', ['0755', writer]);
      spawnSync(writer, [join(work, `${marker}.conf`)]);
      spawnSync(writer, [etcFile]);
      const alerts = () => hook.requests.map((r) => JSON.parse(r.body) as Alert);
      await eventually(() => {
        const a = alerts().find((x) => x.rule === 'Write below etc' && x.output_fields['fd.name'] === etcFile);
        assert.ok(a, 'the alert reached the webhook');
        assert.equal(a.priority, 'Error');
        assert.equal(a.output_fields['proc.name'], 'cfgtouch');
      }, WAIT_MS);
      assert.deepEqual(alerts().filter((x) => x.output_fields['fd.name'] === join(work, `${marker}.conf`)).map((x) => x.rule), [], 'the close miss stayed silent');
    } finally {
      rmSync(etcFile, { force: true });
      rmSync(work, { recursive: true, force: true });
      assert.equal(await det.stop(), 0);
      await hook.close();
    }
  });
});

describe('peregrine run: when the kernel ring overflows, Falco\'s drop alert is raised and counted', () => {
  test('a 1 MiB ring, the agent stalled (SIGSTOP) while a process floods opens', async () => {
    assert.ok(availability.ok, 'kernel capture must be available for this test');
    const hook = await HttpReceiver.start();
    const det = await startDetector({
      config: `webhook:\n  address: ${hook.url}/alerts\ndetector:\n  jsonoutput: true\n  capture:\n    ringbuffermb: 1\n  syscalleventdrops:\n    intervalms: 1000\n`,
    });
    try {
      // A stalled agent (all its threads stopped) stops draining the ring; the kernel side must count
      // what it could not write instead of blocking the flooding process.
      process.kill(det.child.pid!, 'SIGSTOP');
      let flood;
      try {
        flood = spawnSync(PY, ['-c', 'import os\nfor i in range(200000): os.close(os.open("/etc/hostname", os.O_RDONLY))'], { timeout: 60_000 });
      } finally {
        process.kill(det.child.pid!, 'SIGCONT');
      }
      assert.equal(flood.status, 0);
      let dropped = 0;
      await eventually(async () => {
        const metrics = await (await fetch(`${det.url}/metrics`)).text();
        dropped = Number(/peregrine_capture_total\{kind="drop_ringbuf_full"\} (\d+)/.exec(metrics)?.[1] ?? 0);
        assert.ok(dropped > 0, 'ringbuf_full drops are exported');
      }, WAIT_MS);
      let alert: Alert | undefined;
      await eventually(() => {
        alert = hook.requests.map((r) => JSON.parse(r.body) as Alert).find((x) => x.rule === 'Falco internal: syscall event drop');
        assert.ok(alert, 'the drop alert reached the webhook');
      }, WAIT_MS);
      assert.ok(alert);
      assert.equal(alert.priority, 'Debug');
      assert.equal(alert.source, 'internal');
      assert.match(alert.output, /^Falco internal: syscall event drop\. \d+ system calls dropped since the last report\.$/);
      assert.ok(Number(alert.output_fields['n_drops']) > 0);
    } finally {
      assert.equal(await det.stop(), 0);
      await hook.close();
    }
  });
});
