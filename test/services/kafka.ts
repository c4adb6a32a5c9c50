import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, startProcess, stopProcess, waitForPort } from './process.ts';

const TOOLS = process.env.PEREGRINE_TOOLS ?? '/opt/peregrine-tools';
const LIBS = process.env.KAFKA_LIBS ?? `${TOOLS}/kafka-libs`;

/**
 * A real single-node Kafka broker (KRaft, broker + controller in one JVM) from Maven Central jars.
 * JVM start takes seconds: start one per test file. stop()/start() keep the data directory and ports.
 */
export class KafkaBroker {
  private child: ChildProcess | undefined;
  private output: () => string = () => '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'prg-kafka-'));
  readonly port: number;
  private readonly controllerPort: number;
  private constructor(port: number, controllerPort: number) {
    this.port = port;
    this.controllerPort = controllerPort;
  }

  get bootstrap(): string { return `127.0.0.1:${this.port}`; }

  static async start(): Promise<KafkaBroker> {
    if (!existsSync(LIBS) || readdirSync(LIBS).length === 0) throw new Error(`Kafka jars not found in ${LIBS}: run scripts/setup.sh --test`);
    const b = new KafkaBroker(await freePort(), await freePort());
    b.configure();
    await b.start();
    return b;
  }

  private jvm(): string[] {
    return ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`, '-cp', `${LIBS}/*`];
  }

  private configure(): void {
    writeFileSync(join(this.dir, 'server.properties'), [
      'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`, 'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT', 'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(this.dir, 'data')}`,
      // One node: every internal topic must have replication factor 1 or consumer groups never start.
      'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1',
      'default.replication.factor=1', 'min.insync.replicas=1', 'num.partitions=1', 'offsets.topic.num.partitions=1',
      'group.initial.rebalance.delay.ms=0', 'auto.create.topics.enable=true', 'num.network.threads=2', 'num.io.threads=2',
    ].join('\n') + '\n');
    writeFileSync(join(this.dir, 'log4j2.properties'), [
      'status = warn', 'appender.console.type = Console', 'appender.console.name = OUT',
      'appender.console.layout.type = PatternLayout', 'appender.console.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = WARN', 'rootLogger.appenderRef.out.ref = OUT',
    ].join('\n') + '\n');
    // A base64url id may begin with '-', which the format tool reads as an option (1 start in 64 failed so);
    // Kafka's own random ids never begin with it either.
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    execFileSync('java', [...this.jvm(), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', join(this.dir, 'server.properties')], { stdio: 'pipe' });
  }

  async start(): Promise<void> {
    const p = startProcess('java', [...this.jvm(), 'kafka.Kafka', join(this.dir, 'server.properties')]);
    this.child = p.child;
    this.output = p.output;
    try {
      await waitForPort(this.port, 90000, 'Kafka broker', p.child);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${p.output()}`);
    }
  }

  logs(): string { return this.output(); }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child, 30000);
    this.child = undefined;
  }
}
