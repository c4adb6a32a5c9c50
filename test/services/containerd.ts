/**
 * Real container runtimes for tests (root only): Debian's containerd with its root, state and socket under a temp
 * directory (CRI plugin on, restrict_oom_score_adj because root here lacks CAP_SYS_RESOURCE, a bridge CNI
 * conflist), a busybox image built here as an OCI layout and imported, ctr and crictl (CRI) wrappers, and dockerd
 * on the same containerd. Everything is stopped and removed by stop(); sockets are unix sockets in the temp dir.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary, startProcess, stopProcess } from './process.ts';

const run = promisify(execFile);
const TOOLS = process.env.PEREGRINE_TOOLS ?? '/opt/peregrine-tools';

/** The image every test container runs: busybox, with labels in its config. */
export const IMAGE = 'docker.io/peregrine/busybox:e2e';
export const IMAGE_REPOSITORY = 'docker.io/peregrine/busybox';
export const IMAGE_LABELS = { 'org.opencontainers.image.title': 'peregrine-e2e-busybox', 'peregrine.test/kind': 'busybox' };

/** Why runtime tests cannot run here (not root, a binary missing), or undefined. */
export function containerdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'container runtimes need root';
  for (const b of ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc', '/bin/busybox']) {
    if (!existsSync(b)) return `${b} is missing: run scripts/setup.sh --test`;
  }
  return undefined;
}

/** A random 64-hex id, as Docker and Kubernetes use. */
export function hexId(): string {
  return createHash('sha256').update(`${process.pid}-${Date.now()}-${Math.random()}`).digest('hex');
}

export interface CtrRunOptions {
  id: string;
  namespace?: string;
  privileged?: boolean;
  labels?: Record<string, string>;
  /** Bind mounts: host source -> container destination, read-only unless rw. */
  mounts?: { src: string; dst: string; rw?: boolean }[];
  /** The command (default: sleep for an hour). */
  args?: string[];
}

export class Containerd {
  readonly dir: string;
  readonly socket: string;
  private proc: ReturnType<typeof startProcess> | undefined;
  private dockerProc: ReturnType<typeof startProcess> | undefined;
  dockerSocket = '';
  /** The test image's manifest digest (container.image.digest under containerd). */
  imageDigest = '';
  private readonly containers: { ns: string; id: string }[] = [];
  private readonly pods: string[] = [];
  private readonly bridge = `prg${process.pid % 100000}`;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'containerd.sock');
  }

  /** Starts containerd and imports the test image into the default and k8s.io namespaces. */
  static async start(): Promise<Containerd> {
    const c = new Containerd(mkdtempSync(join(tmpdir(), 'prg-ctrd-')));
    try {
      await c.boot();
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  private async boot(): Promise<void> {
    const d = this.dir;
    mkdirSync(join(d, 'cni'), { recursive: true });
    writeFileSync(join(d, 'cni', '10-peregrine.conflist'), JSON.stringify({
      cniVersion: '0.4.0', name: 'peregrine-test',
      plugins: [
        { type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.251.0.0/24' }]], dataDir: join(d, 'ipam') } },
        { type: 'loopback' },
      ],
    }));
    writeFileSync(join(d, 'config.toml'), [
      'version = 2',
      `root = "${d}/root"`,
      `state = "${d}/state"`,
      '[grpc]', `  address = "${this.socket}"`,
      '[ttrpc]', `  address = "${this.socket}.ttrpc"`,
      '[debug]', `  address = "${d}/debug.sock"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${IMAGE}"`,
      '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = "${d}/cni"`,
      '',
    ].join('\n'));
    this.proc = startProcess('/usr/bin/containerd', ['--config', join(d, 'config.toml')]);
    await this.waitServing();
    const layout = await this.buildImage();
    for (const ns of ['default', 'k8s.io']) await this.ctr(['-n', ns, 'images', 'import', layout]);
  }

  /** A busybox rootfs as one layer, in an OCI image layout tar written by hand (config with labels, manifest, index). */
  private async buildImage(): Promise<string> {
    const d = join(this.dir, 'image');
    const rootfs = join(d, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const sub of ['tmp', 'proc', 'sys', 'dev', 'etc', 'root', 'mnt']) mkdirSync(join(rootfs, sub), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const tool of ['sh', 'ls', 'cat', 'cp', 'chmod', 'sleep', 'unshare', 'id', 'true', 'echo', 'mkdir', 'grep']) {
      symlinkSync('busybox', join(rootfs, 'bin', tool));
    }
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');

    const oci = join(d, 'oci');
    const blobs = join(oci, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const blob = (bytes: Buffer) => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(blobs, hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    const layerTar = join(d, 'layer.tar');
    await run('tar', ['-C', rootfs, '--owner=0', '--group=0', '-cf', layerTar, '.']);
    const layer = blob(readFileSync(layerTar));
    const config = blob(Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux',
      // The pod sandbox (pause) runs the image's command: it must stay up.
      config: { Env: ['PATH=/bin'], Cmd: ['sleep', '2147483647'], Labels: IMAGE_LABELS },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    })));
    const manifest = blob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    })));
    writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(oci, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
        annotations: { 'io.containerd.image.name': IMAGE, 'org.opencontainers.image.ref.name': 'e2e' },
      }],
    }));
    const out = join(d, 'layout.tar');
    await run('tar', ['-C', oci, '-cf', out, '.']);
    this.imageDigest = manifest.digest;
    return out;
  }

  /** Makes the test image available in another containerd namespace. */
  async importImage(namespace: string): Promise<void> {
    await this.ctr(['-n', namespace, 'images', 'import', join(this.dir, 'image', 'layout.tar')]);
  }

  async ctr(args: string[]): Promise<string> {
    const { stdout } = await run('/usr/bin/ctr', ['-a', this.socket, ...args], { maxBuffer: 16 << 20 });
    return stdout;
  }

  /** ctr run -d: a detached container (sleeping unless args say otherwise). */
  async runCtr(o: CtrRunOptions): Promise<void> {
    const ns = o.namespace ?? 'default';
    const args = ['-n', ns, 'run', '-d'];
    if (o.privileged) args.push('--privileged');
    for (const [k, v] of Object.entries(o.labels ?? {})) args.push('--label', `${k}=${v}`);
    for (const m of o.mounts ?? []) args.push('--mount', `type=bind,src=${m.src},dst=${m.dst},options=rbind:${m.rw ? 'rw' : 'ro'}`);
    args.push(IMAGE, o.id, ...(o.args ?? ['sleep', '3600']));
    this.containers.push({ ns, id: o.id });
    await this.ctr(args);
  }

  /** ctr task exec: runs a command in a running container and waits for it. */
  async execCtr(id: string, cmd: string[], namespace = 'default'): Promise<string> {
    return this.ctr(['-n', namespace, 'task', 'exec', '--exec-id', `x${Math.random().toString(16).slice(2, 10)}`, id, ...cmd]);
  }

  /** crictl against this containerd's CRI plugin. */
  async crictl(args: string[]): Promise<string> {
    const bin = requireBinary('crictl', [join(TOOLS, 'bin', 'crictl')]);
    const { stdout } = await run(bin, ['--runtime-endpoint', `unix://${this.socket}`, '--image-endpoint', `unix://${this.socket}`, '--timeout', '30s', ...args], { maxBuffer: 16 << 20 });
    return stdout.trim();
  }

  /** A pod sandbox and one container in it, started; returns their ids. */
  async runPod(o: { name: string; namespace: string; uid: string; container: string; labels?: Record<string, string>; privileged?: boolean }): Promise<{ podId: string; containerId: string }> {
    const podCfg = join(this.dir, `pod-${o.name}.json`);
    const ctrCfg = join(this.dir, `ctr-${o.name}.json`);
    const security = o.privileged ? { privileged: true } : {};
    writeFileSync(podCfg, JSON.stringify({
      metadata: { name: o.name, namespace: o.namespace, uid: o.uid, attempt: 0 },
      labels: o.labels ?? {}, log_directory: join(this.dir, 'logs'),
      linux: { security_context: security },
    }));
    writeFileSync(ctrCfg, JSON.stringify({
      metadata: { name: o.container }, image: { image: IMAGE }, command: ['sleep', '3600'],
      log_path: `${o.container}.log`, linux: { security_context: security },
    }));
    const podId = await this.crictl(['runp', podCfg]);
    this.pods.push(podId);
    const containerId = await this.crictl(['create', podId, ctrCfg, podCfg]);
    await this.crictl(['start', containerId]);
    return { podId, containerId };
  }

  /** dockerd on this containerd, no iptables or bridge, its API on a unix socket in the temp dir. */
  async startDocker(): Promise<string> {
    const d = join(this.dir, 'docker');
    mkdirSync(d, { recursive: true });
    this.dockerSocket = join(d, 'docker.sock');
    this.dockerProc = startProcess('/usr/sbin/dockerd', [
      '--containerd', this.socket, '--iptables=false', '--bridge=none', '--ip-masq=false', '-H', `unix://${this.dockerSocket}`,
      '--data-root', join(d, 'root'), '--exec-root', join(d, 'exec'), '--pidfile', join(d, 'docker.pid'), '--storage-driver', 'overlay2',
    ]);
    const deadline = Date.now() + 30000;
    for (;;) {
      if (this.dockerProc.child.exitCode !== null) throw new Error(`dockerd exited (${this.dockerProc.child.exitCode}):\n${this.dockerProc.output()}`);
      if (existsSync(this.dockerSocket)) {
        try {
          await this.docker(['version']);
          break;
        } catch {
          // not serving yet
        }
      }
      if (Date.now() > deadline) throw new Error(`dockerd did not start within 30 s:\n${this.dockerProc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // docker import: the same busybox rootfs as a flat tar.
    const tar = join(this.dir, 'image', 'rootfs.tar');
    await run('tar', ['-C', join(this.dir, 'image', 'rootfs'), '-cf', tar, '.']);
    await this.docker(['import', tar, IMAGE]);
    return this.dockerSocket;
  }

  async docker(args: string[]): Promise<string> {
    const { stdout } = await run('/usr/bin/docker', ['-H', `unix://${this.dockerSocket}`, ...args], { maxBuffer: 16 << 20 });
    return stdout.trim();
  }

  /** Stops every container, pod, dockerd and containerd, and removes the temp directory. */
  async stop(): Promise<void> {
    if (this.dockerProc) {
      await this.docker(['rm', '-f', ...(await this.docker(['ps', '-aq'])).split('\n').filter(Boolean)]).catch(() => undefined);
      await stopProcess(this.dockerProc.child, 20000);
    }
    if (this.proc && this.proc.child.exitCode === null) {
      for (const p of this.pods) {
        await this.crictl(['stopp', p]).catch(() => undefined);
        await this.crictl(['rmp', '-f', p]).catch(() => undefined);
      }
      for (const c of this.containers) {
        await this.ctr(['-n', c.ns, 'task', 'kill', '-s', 'KILL', c.id]).catch(() => undefined);
      }
      for (const c of this.containers) {
        for (let i = 0; i < 20; i++) {
          try {
            await this.ctr(['-n', c.ns, 'task', 'delete', '-f', c.id]);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await this.ctr(['-n', c.ns, 'containers', 'delete', c.id]).catch(() => undefined);
      }
      await stopProcess(this.proc.child, 20000);
    }
    this.killShims();
    await run('ip', ['link', 'del', this.bridge]).catch(() => undefined);
    // Mounts left by a killed shim would make rm fail: unmount anything under the dir first.
    await run('sh', ['-c', `grep -o ' ${this.dir}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a busy mount: leave the temp dir rather than fail the test run
    }
  }

  /**
   * Shims of this containerd that outlived it (a test stopped the daemon, or cleanup failed): their container
   * processes first, then the shims, found by the socket address on their command line.
   */
  private killShims(): void {
    const shims: number[] = [];
    const parents = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
        if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(`-address\0${this.socket}\0`)) shims.push(Number(name));
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
    for (const shim of shims) {
      for (const [pid, ppid] of parents) if (ppid === shim) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(shim, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  /** Stops containerd only (a runtime that goes down under a running detector); start it again with restartDaemon. */
  async killDaemon(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 20000);
  }

  /** containerd back up with the same root and state (its containers' shims kept running meanwhile). */
  async restartDaemon(): Promise<void> {
    this.proc = startProcess('/usr/bin/containerd', ['--config', join(this.dir, 'config.toml')]);
    await this.waitServing();
  }

  private async waitServing(): Promise<void> {
    const deadline = Date.now() + 15000;
    for (;;) {
      if (this.proc!.child.exitCode !== null) throw new Error(`containerd exited (${this.proc!.child.exitCode}):\n${this.proc!.output()}`);
      if (existsSync(this.socket)) {
        try {
          await this.ctr(['version']);
          return;
        } catch {
          // not serving yet
        }
      }
      if (Date.now() > deadline) throw new Error(`containerd did not start within 15 s:\n${this.proc!.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  pidOf(id: string, namespace = 'default'): Promise<number> {
    return this.ctr(['-n', namespace, 'task', 'ls']).then((out) => {
      const line = out.split('\n').find((l) => l.startsWith(`${id} `));
      if (!line) throw new Error(`no task ${id} in ${namespace}`);
      return Number(line.trim().split(/\s+/)[1]);
    });
  }
}
