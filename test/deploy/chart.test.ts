import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { valuesSchema } from '../../scripts/gen-values-schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { helmTemplate, ROOT, run, tool } from './tools.ts';

type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

function render(args: string[] = []): Manifest[] {
  return parseAllDocuments(helmTemplate(args)).map((d) => d.toJS() as Manifest).filter(Boolean);
}
const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);

describe('Helm chart', () => {
  test('helm lint passes', () => {
    const r = run(tool('helm'), ['lint', 'charts/peregrine', '--strict', '--set', 'detector.enabled=true']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('defaults: router Deployment (k8s audit, no capture) + Service + config ConfigMap, detector DaemonSet', () => {
    const ms = render();
    const [dep] = byKind(ms, 'Deployment');
    assert.ok(dep);
    assert.equal(dep.spec.replicas, 2);
    const c = dep.spec.template.spec.containers[0];
    assert.deepEqual(c.args, ['run', '-c', '/etc/peregrine/config.yaml']);
    assert.deepEqual(c.env, [{ name: 'DETECTOR_CAPTURE_ENABLED', value: 'false' }, { name: 'UI_DBFILE', value: '/var/lib/peregrine/ui.sqlite' }]);
    // The UI store is written to a volume: the root file system stays read-only.
    assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'data' && m.mountPath === '/var/lib/peregrine'));
    assert.ok(dep.spec.template.spec.volumes.some((v: { name: string; emptyDir?: unknown }) => v.name === 'data' && v.emptyDir));
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/healthz');
    assert.equal(dep.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(dep.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
    const [svc] = byKind(ms, 'Service');
    assert.equal(svc!.spec.ports[0].port, 2801);
    const [ds] = byKind(ms, 'DaemonSet');
    assert.ok(ds, 'the detector runs on every node by default');
    const dc = ds.spec.template.spec.containers[0];
    assert.deepEqual(dc.args, ['run', '-c', '/etc/peregrine/config.yaml']);
    // (then the container runtime sockets: their own test below)
    assert.deepEqual(dc.env.slice(0, 2), [{ name: 'DETECTOR_K8SAUDIT_ENABLED', value: 'false' }, { name: 'UI_ENABLED', value: 'false' }]);
    assert.equal(dc.livenessProbe.httpGet.path, '/healthz');
    assert.deepEqual(byKind(ms, 'Secret'), []);
    // Both keep their spool at the image's SPOOL_DIR on a volume: emptyDir for the router, the node's disk for the detector.
    const spoolMount = (ctr: any) => ctr.volumeMounts.find((m: any) => m.mountPath === '/var/lib/peregrine/spool' || m.mountPath === '/var/lib/peregrine');
    assert.ok(spoolMount(c) && spoolMount(dc));
    assert.ok(dep.spec.template.spec.volumes.find((v: any) => v.name === spoolMount(c).name).emptyDir);
    assert.equal(ds.spec.template.spec.volumes.find((v: any) => v.name === spoolMount(dc).name).hostPath.path, '/var/lib/peregrine/spool');
  });

  test('the detector mounts the container runtime sockets read-only and points container.* at them', () => {
    const detector = (args: string[] = []) => byKind(render(args), 'DaemonSet')[0]!.spec.template.spec;
    const env = (pod: any) => Object.fromEntries(pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const mounts = (pod: any) => pod.containers[0].volumeMounts.filter((m: any) => m.name.endsWith('-socket'));
    // Default: containerd only (its socket serves the CRI too), as a Socket hostPath that must exist.
    let pod = detector();
    assert.deepEqual(mounts(pod), [{ name: 'containerd-socket', mountPath: '/host/run/containerd/containerd.sock', readOnly: true }]);
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'containerd-socket').hostPath, { path: '/run/containerd/containerd.sock', type: 'Socket' });
    const e1 = env(pod);
    assert.equal(e1.CONTAINER_CONTAINERD_SOCKET, '/host/run/containerd/containerd.sock');
    assert.equal(e1.CONTAINER_CRI_SOCKETS, '/host/run/containerd/containerd.sock');
    assert.equal(e1.CONTAINER_DOCKER_ENABLED, 'false');
    // CRI-O and Docker nodes, containerd off: both CRI-O's and Docker's sockets, each read-only.
    pod = detector(['--set', 'detector.containerRuntimes.containerd.enabled=false', '--set', 'detector.containerRuntimes.crio.enabled=true',
      '--set', 'detector.containerRuntimes.docker.enabled=true', '--set', 'detector.containerRuntimes.docker.socket=/run/docker.sock']);
    assert.deepEqual(mounts(pod).map((m: any) => [m.mountPath, m.readOnly]), [['/host/run/crio/crio.sock', true], ['/host/run/docker.sock', true]]);
    const e2 = env(pod);
    assert.equal(e2.CONTAINER_CONTAINERD_ENABLED, 'false');
    assert.equal(e2.CONTAINER_CRI_SOCKETS, '/host/run/crio/crio.sock');
    assert.equal(e2.CONTAINER_DOCKER_SOCKET, '/host/run/docker.sock');
    // The program accepts that environment as its container.* config.
    const [cm] = byKind(render(), 'ConfigMap');
    const config = loadConfig({ env: e2, yamlText: cm!.data!['config.yaml']! });
    assert.equal(config.container.containerd.enabled, false);
    assert.deepEqual(config.container.cri.sockets, ['/host/run/crio/crio.sock']);
    assert.equal(config.container.docker.socket, '/host/run/docker.sock');
    // No runtime at all: nothing mounted, every client off.
    pod = detector(['--set', 'detector.containerRuntimes.containerd.enabled=false']);
    assert.deepEqual(mounts(pod), []);
    assert.equal(env(pod).CONTAINER_CRI_ENABLED, 'false');
  });

  test('router.k8sAudit=false: the plain router, no detector when disabled', () => {
    const ms = render(['--set', 'router.k8sAudit=false', '--set', 'detector.enabled=false']);
    assert.deepEqual(byKind(ms, 'Deployment')[0]!.spec.template.spec.containers[0].args, ['route', '-c', '/etc/peregrine/config.yaml']);
    assert.deepEqual(byKind(ms, 'DaemonSet'), []);
  });

  test('the rendered config is one the program accepts', () => {
    const [cm] = byKind(render(['--set', 'config.slack.minimumpriority=error']), 'ConfigMap');
    const config = loadConfig({ env: {}, yamlText: cm!.data!['config.yaml']! });
    assert.equal(config.listenport, 2801);
    assert.equal((config.slack as { minimumpriority?: string }).minimumpriority, 'error');
  });

  test('non-default values: detector DaemonSet, secrets, rules, ServiceMonitor', () => {
    const ms = render([
      '--set', 'detector.enabled=true', '--set', 'router.replicaCount=3',
      '--set', 'secretEnv.SLACK_WEBHOOKURL=https://hooks.slack.com/services/T/B/X',
      '--set-string', 'rules.extra\\.yaml=- rule: x',
      '--set', 'metrics.serviceMonitor.enabled=true',
    ]);
    const [ds] = byKind(ms, 'DaemonSet');
    assert.ok(ds, 'DaemonSet rendered');
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
    assert.equal(pod.containers[0].securityContext.privileged, true);
    assert.ok(pod.volumes.some((v: any) => v.hostPath?.path === '/sys/kernel/btf'));
    assert.deepEqual(pod.containers[0].args.slice(0, 5), ['run', '-c', '/etc/peregrine/config.yaml', '-r', '/etc/peregrine/rules.d/extra.yaml']);
    const [secret] = byKind(ms, 'Secret');
    assert.equal(secret!.stringData!.SLACK_WEBHOOKURL, 'https://hooks.slack.com/services/T/B/X');
    const dep = byKind(ms, 'Deployment')[0]!;
    assert.equal(dep.spec.replicas, 3);
    assert.equal(dep.spec.template.spec.containers[0].envFrom[0].secretRef.name, secret!.metadata.name);
    assert.equal(byKind(ms, 'ServiceMonitor').length, 1);
    assert.equal(byKind(ms, 'ConfigMap').length, 2);
  });

  test('unprivileged detector gets only the BPF capabilities', () => {
    const [ds] = byKind(render(['--set', 'detector.enabled=true', '--set', 'detector.privileged=false']), 'DaemonSet');
    const sc = ds!.spec.template.spec.containers[0].securityContext;
    assert.equal(sc.privileged, undefined);
    assert.ok(sc.capabilities.add.includes('BPF') && sc.capabilities.add.includes('PERFMON'));
  });

  test('extraVolumes and extraVolumeMounts (Falcosidekick chart keys) reach the router and the detector, e.g. client certificates for mutualtls', () => {
    const ms = render([
      '--set', 'detector.enabled=true',
      '--set', 'extraVolumes[0].name=mtls', '--set', 'extraVolumes[0].secret.secretName=client-certs',
      '--set', 'extraVolumeMounts[0].name=mtls', '--set', 'extraVolumeMounts[0].mountPath=/etc/certs', '--set', 'extraVolumeMounts[0].readOnly=true',
      '--set', 'config.webhook.address=https://receiver.example/', '--set', 'config.webhook.mutualtls=true',
    ]);
    for (const kind of ['Deployment', 'DaemonSet']) {
      const pod = byKind(ms, kind)[0]!.spec.template.spec;
      assert.deepEqual(pod.volumes.find((v: any) => v.name === 'mtls'), { name: 'mtls', secret: { secretName: 'client-certs' } }, kind);
      assert.deepEqual(pod.containers[0].volumeMounts.find((m: any) => m.name === 'mtls'), { name: 'mtls', mountPath: '/etc/certs', readOnly: true }, kind);
    }
    const cfg = loadConfig({ env: {}, yamlText: byKind(ms, 'ConfigMap')[0]!.data!['config.yaml']! });
    assert.equal((cfg.webhook as { mutualtls: boolean }).mutualtls, true);
    assert.equal(cfg.mutualtlsfilespath, '/etc/certs');
    assert.throws(() => helmTemplate(['--set', 'extraVolumeMounts[0].name=x', '--set', 'extraVolumeMounts[0].mountPath=relative']), /mountPath/);
  });

  test('existingSecret is referenced instead of a generated Secret', () => {
    const ms = render(['--set', 'existingSecret=my-peregrine']);
    assert.deepEqual(byKind(ms, 'Secret'), []);
    assert.equal(byKind(ms, 'Deployment')[0]!.spec.template.spec.containers[0].envFrom[0].secretRef.name, 'my-peregrine');
  });

  test('the values schema rejects bad values', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'router.replicaCount=two'], /replicaCount/],
      [['--set', 'config.slack.minimumpriority=critcal'], /minimumpriority/],
      [['--set', 'config.listenprot=1'], /listenprot/],
      [['--set', 'router.service.type=Ingress'], /type/],
    ];
    for (const [args, message] of cases) {
      const r = run(tool('helm'), ['template', 'prg', 'charts/peregrine', ...args]);
      assert.notEqual(r.status, 0, `accepted ${args.join(' ')}`);
      assert.match(r.stderr, message);
    }
    // A Falcosidekick key Peregrine ignores is accepted, as the program accepts it.
    assert.equal(run(tool('helm'), ['template', 'prg', 'charts/peregrine', '--set', 'config.loki.hostport=']).status, 0);
  });

  test('values.schema.json is generated from the config schema (node scripts/gen-values-schema.ts)', () => {
    const committed = JSON.parse(readFileSync(`${ROOT}charts/peregrine/values.schema.json`, 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(valuesSchema())));
  });
});
