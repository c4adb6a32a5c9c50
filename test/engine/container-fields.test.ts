// The container.* and k8s.* fields: names, types and argument syntax of Falco's container plugin, values read
// through the one metadata lookup (metadata on the event's container, else the registered provider).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/engine/engine.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { setContainerMetadataProvider } from '../../src/engine/fields/container.ts';
import type { ContainerMetadata, SyscallEvent } from '../../src/engine/event.ts';
import { container, exec } from '../../src/engine/testing/events.ts';

function fields(e: SyscallEvent, format: string): Record<string, unknown> {
  return compileOutputFormat(format, syscallFields)(e).fields;
}

// Every field Falco's container plugin declares (plugins/container, extract.cpp get_fields), with its type.
const PLUGIN_FIELDS: Record<string, string> = {
  'container.id': 'charbuf', 'container.full_id': 'charbuf', 'container.name': 'charbuf', 'container.image': 'charbuf',
  'container.image.id': 'charbuf', 'container.type': 'charbuf', 'container.privileged': 'bool', 'container.mounts': 'charbuf',
  'container.mount': 'charbuf', 'container.mount.source': 'charbuf', 'container.mount.dest': 'charbuf', 'container.mount.mode': 'charbuf',
  'container.mount.rdwr': 'charbuf', 'container.mount.propagation': 'charbuf', 'container.image.repository': 'charbuf',
  'container.image.tag': 'charbuf', 'container.image.digest': 'charbuf', 'container.healthcheck': 'charbuf',
  'container.liveness_probe': 'charbuf', 'container.readiness_probe': 'charbuf', 'container.start_ts': 'abstime',
  'container.duration': 'reltime', 'container.ip': 'charbuf', 'container.cni.json': 'charbuf', 'container.host_pid': 'bool',
  'container.host_network': 'bool', 'container.host_ipc': 'bool', 'container.label': 'charbuf', 'container.labels': 'charbuf',
  'proc.is_container_healthcheck': 'bool', 'proc.is_container_liveness_probe': 'bool', 'proc.is_container_readiness_probe': 'bool',
  'k8s.pod.name': 'charbuf', 'k8s.ns.name': 'charbuf', 'k8s.pod.id': 'charbuf', 'k8s.pod.uid': 'charbuf', 'k8s.pod.sandbox_id': 'charbuf',
  'k8s.pod.full_sandbox_id': 'charbuf', 'k8s.pod.label': 'charbuf', 'k8s.pod.labels': 'charbuf', 'k8s.pod.ip': 'charbuf',
  'k8s.pod.cni.json': 'charbuf', 'k8s.rc.name': 'charbuf', 'k8s.rc.id': 'charbuf', 'k8s.rc.label': 'charbuf', 'k8s.rc.labels': 'charbuf',
  'k8s.svc.name': 'charbuf', 'k8s.svc.id': 'charbuf', 'k8s.svc.label': 'charbuf', 'k8s.svc.labels': 'charbuf', 'k8s.ns.id': 'charbuf',
  'k8s.ns.label': 'charbuf', 'k8s.ns.labels': 'charbuf', 'k8s.rs.name': 'charbuf', 'k8s.rs.id': 'charbuf', 'k8s.rs.label': 'charbuf',
  'k8s.rs.labels': 'charbuf', 'k8s.deployment.name': 'charbuf', 'k8s.deployment.id': 'charbuf', 'k8s.deployment.label': 'charbuf',
  'k8s.deployment.labels': 'charbuf',
};
const ARG_REQUIRED = ['container.mount', 'container.mount.source', 'container.mount.dest', 'container.mount.mode', 'container.mount.rdwr',
  'container.mount.propagation', 'container.label', 'k8s.pod.label', 'k8s.rc.label', 'k8s.svc.label', 'k8s.ns.label', 'k8s.rs.label', 'k8s.deployment.label'];

test('the syscall table has every container-plugin field with the plugin\'s type and argument rules', () => {
  for (const [name, type] of Object.entries(PLUGIN_FIELDS)) {
    const def = syscallFields.fields.get(name);
    assert.ok(def, `${name} is in the table`);
    assert.equal(def.type, type, `${name} type`);
    assert.equal(def.arg?.required ?? false, ARG_REQUIRED.includes(name), `${name} argument required`);
  }
  const compile = (condition: string) => loadRules([{ name: 'c.yaml', content: `- rule: r\n  desc: d\n  condition: evt.type = execve and ${condition}\n  output: o\n  priority: WARNING\n` }], { tables: [syscallFields] }).errors.map((e) => e.message);
  assert.deepEqual(compile('container.mount.dest[/var/run/docker.sock] != "<NA>"'), []);
  assert.deepEqual(compile('container.label[com.docker.compose.service] = web'), []);
  assert.match(compile('container.mount.dest = x')[0] ?? '', /requires an argument/);
  assert.match(compile('container.image.repository[1] = x')[0] ?? '', /does not support arguments/);
});

test('a host process: the plugin\'s host pseudo-container (id, name and type "host", empty image, not privileged)', () => {
  const f = fields(exec({ comm: 'sh' }), '%container.id %container.name %container.type %container.image.repository %container.privileged %k8s.pod.name %container.mount.dest[/etc]');
  assert.deepEqual(f, {
    'container.id': 'host', 'container.name': 'host', 'container.type': 'host', 'container.image.repository': '',
    'container.privileged': false, 'k8s.pod.name': null, 'container.mount.dest[/etc]': null,
  });
});

test('a container the runtime has not described yet: its id and cgroup type, <NA> for the rest', () => {
  const e = exec({ comm: 'sh' }, { id: 'abcdef012345', fullId: 'abcdef012345'.padEnd(64, '0'), type: 'containerd' });
  const out = compileOutputFormat('%container.id %container.type %container.name %container.image.repository %container.privileged %k8s.ns.name', syscallFields)(e);
  assert.equal(out.text, 'abcdef012345 containerd <NA> <NA> <NA> <NA>');
});

const described: ContainerMetadata = {
  id: '3ad7b26ded6d', fullId: '3ad7b26ded6d'.padEnd(64, 'a'), name: 'web', type: 'containerd', image: 'docker.io/library/nginx:1.27',
  imageRepository: 'docker.io/library/nginx', imageTag: '1.27', imageDigest: 'sha256:abc', privileged: true, hostNetwork: true,
  ip: '10.0.0.7', cniResult: '{"interfaces":{"eth0":{}}}',
  mounts: [
    { source: '/var/run/docker.sock', dest: '/var/run/docker.sock', mode: '', rdwr: true, propagation: 'rprivate' },
    { source: '/proc', dest: '/host/proc', mode: 'ro', rdwr: false, propagation: 'rprivate' },
  ],
  labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1', tier: 'front', 'annotation.x': 'y', solo: '' },
  podSandboxId: '63060edc2d3a'.padEnd(64, 'b'),
  podSandboxLabels: { app: 'web', 'app.kubernetes.io/name': 'web' },
};

test('a described container: image, privilege, mounts by index and by path pattern, labels, pod fields', () => {
  const e = exec({ comm: 'sh' }, { id: '3ad7b26ded6d', metadata: described });
  const f = fields(e, [
    '%container.name %container.image %container.image.repository %container.image.tag %container.image.digest %container.privileged',
    '%container.host_network %container.host_pid %container.mounts %container.mount[1] %container.mount.dest[/var/run/docker.sock]',
    '%container.mount.dest[/pro*] %container.mount.source[/host/proc] %container.mount.rdwr[1] %container.mount.dest[/nothere]',
    '%container.label[tier] %container.labels %k8s.pod.name %k8s.ns.name %k8s.pod.uid %k8s.pod.sandbox_id %k8s.pod.label[app.kubernetes.io/name]',
    '%k8s.pod.labels %k8s.pod.ip %container.healthcheck %k8s.deployment.name',
  ].join(' '));
  assert.deepEqual(f, {
    'container.name': 'web', 'container.image': 'docker.io/library/nginx:1.27', 'container.image.repository': 'docker.io/library/nginx',
    'container.image.tag': '1.27', 'container.image.digest': 'sha256:abc', 'container.privileged': true, 'container.host_network': true,
    'container.host_pid': null,
    'container.mounts': '/var/run/docker.sock:/var/run/docker.sock::true:rprivate,/proc:/host/proc:ro:false:rprivate',
    'container.mount[1]': '/proc:/host/proc:ro:false:rprivate',
    'container.mount.dest[/var/run/docker.sock]': '/var/run/docker.sock',
    'container.mount.dest[/pro*]': '/host/proc',
    'container.mount.source[/host/proc]': '/proc',
    'container.mount.rdwr[1]': 'false',
    'container.mount.dest[/nothere]': null,
    'container.label[tier]': 'front', 'container.labels': 'solo, tier:front',
    'k8s.pod.name': 'web-0', 'k8s.ns.name': 'shop', 'k8s.pod.uid': 'u-1', 'k8s.pod.sandbox_id': '63060edc2d3a',
    'k8s.pod.label[app.kubernetes.io/name]': 'web', 'k8s.pod.labels': 'app:web, app.kubernetes.io/name:web', 'k8s.pod.ip': '10.0.0.7',
    'container.healthcheck': null, 'k8s.deployment.name': null,
  });
});

test('the registered provider answers for containers the capture attached no metadata to; the pod sandbox gives pod ip and labels', () => {
  const sandbox: ContainerMetadata = { id: '63060edc2d3a', ip: '10.0.0.9', cniResult: '{"sandbox":true}', podSandboxLabels: { app: 'api' } };
  const app: ContainerMetadata = { ...described, id: 'aaaaaaaaaaaa', fullId: 'a'.repeat(64), cniResult: '', podSandboxLabels: {} };
  const asked: string[] = [];
  setContainerMetadataProvider({
    containerInfo(id) {
      asked.push(id);
      return id === app.fullId ? app : id === sandbox.id ? sandbox : undefined;
    },
  });
  try {
    const e = exec({ comm: 'sh' }, { id: 'aaaaaaaaaaaa', fullId: 'a'.repeat(64) });
    const f = fields(e, '%container.name %k8s.pod.ip %k8s.pod.cni.json %k8s.pod.label[app] %k8s.pod.labels');
    assert.deepEqual(f, { 'container.name': 'web', 'k8s.pod.ip': '10.0.0.9', 'k8s.pod.cni.json': '{"sandbox":true}', 'k8s.pod.label[app]': 'api', 'k8s.pod.labels': 'app:api' });
    assert.ok(asked.includes('a'.repeat(64)), 'looked up by full id');
  } finally {
    setContainerMetadataProvider(undefined);
  }
});

test('conditions of Falco\'s published rules decide on the metadata: privileged, sensitive mounts, image repository', () => {
  // The mount lookups of the sandbox file's sensitive_mount and falco_rules.yaml's privileged check, in a rules
  // file of our own. (sensitive_mount itself writes `not container.mount.dest[...] in ("<NA>","N/A")`, which holds
  // for a mount that is absent, since a missing value fails the `in` as libsinsp evaluates it.)
  const rules = `
- macro: sensitive_mount
  condition: (container.mount.dest[/proc*] exists or container.mount.dest[/var/run/docker.sock] exists)
- rule: Sensitive mount
  desc: d
  condition: evt.type = execve and container.id != host and sensitive_mount
  output: mounts=%container.mounts
  priority: INFO
- rule: Privileged
  desc: d
  condition: evt.type = execve and container.privileged = true and container.image.repository = docker.io/library/nginx
  output: o
  priority: INFO
`;
  const { engine, errors } = loadRules([{ name: 'mine.yaml', content: rules }], { tables: [syscallFields], ruleMatching: 'all' });
  assert.deepEqual(errors, []);
  const names = (e: SyscallEvent) => engine.evaluate(e).map((r) => r.name);
  assert.deepEqual(names(exec({ comm: 'sh' }, { id: '3ad7b26ded6d', metadata: described })), ['Sensitive mount', 'Privileged']);
  assert.deepEqual(names(exec({ comm: 'sh' }, container({ mounts: [{ source: '/data', dest: '/data', mode: '', rdwr: true, propagation: '' }] }))), []);
  assert.deepEqual(names(exec({ comm: 'sh' }, { id: '3ad7b26ded6d' })), [], 'no metadata yet: nothing to decide on');
  assert.deepEqual(names(exec({ comm: 'sh' })), []);
});

test('mount path patterns run in linear time (RE2): a catastrophic pattern from a rules file costs milliseconds', () => {
  const path = `/${'a'.repeat(5000)}!`;
  const e = exec({ comm: 'sh' }, container({ mounts: [{ source: path, dest: '/d', mode: '', rdwr: true, propagation: '' }] }));
  const started = process.hrtime.bigint();
  const f = fields(e, '%container.mount.dest[(a+)+$] %container.mount.dest[a+!]');
  assert.deepEqual(f, { 'container.mount.dest[(a+)+$]': null, 'container.mount.dest[a+!]': '/d' });
  assert.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'well under two seconds');
});
