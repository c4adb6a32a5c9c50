/**
 * gRPC over a runtime's unix socket: the .proto files in ./proto loaded once, a client per service and socket,
 * and unary calls as promises with a deadline (a lookup never waits longer than the configured timeout).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const FILES = ['containerd-namespaces.proto', 'containerd-containers.proto', 'containerd-images.proto', 'containerd-events.proto',
  'cri.proto'];

let loaded: grpc.GrpcObject | undefined;

function packages(): grpc.GrpcObject {
  if (!loaded) {
    // keepCase: field names as the .proto spells them (runtime_name, pod_sandbox_id); int64 as strings.
    const types = protoLoader.loadSync(FILES, { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true });
    loaded = grpc.loadPackageDefinition(types);
  }
  return loaded;
}

/**
 * Field `field` of a protobuf message as a string. containerd's event payloads (ContainerCreate, ContainerDelete,
 * TaskStart) carry the container id in field 1; reading just that avoids a second protobuf runtime for Any bodies.
 */
export function protoStringField(bytes: Uint8Array, field: number): string | undefined {
  let o = 0;
  const varint = (): number => {
    let v = 0, shift = 0, b: number;
    do {
      if (o >= bytes.length) throw new Error('truncated varint');
      b = bytes[o++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  try {
    while (o < bytes.length) {
      const tag = varint();
      const num = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) varint();
      else if (wire === 1) o += 8;
      else if (wire === 5) o += 4;
      else if (wire === 2) {
        const len = varint();
        if (num === field) return Buffer.from(bytes.buffer, bytes.byteOffset + o, Math.min(len, bytes.length - o)).toString('utf8');
        o += len;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

function service(path: string): ServiceCtor {
  let cur: unknown = packages();
  for (const part of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[part];
  if (typeof cur !== 'function') throw new Error(`gRPC service ${path} is not in the loaded .proto files`);
  return cur as ServiceCtor;
}

/** A client of one service on a unix socket. Connection happens lazily, on the first call. */
export function grpcClient(servicePath: string, socketPath: string): grpc.Client {
  const Ctor = service(servicePath);
  return new Ctor(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    // The runtime is local: reconnect quickly after it restarts, never hold calls for long.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 5000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
}

/** A unary call as a promise, failing after timeoutMs. */
export function unary<T>(client: grpc.Client, method: string, request: object, timeoutMs: number, metadata?: Record<string, string>): Promise<T> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata ?? {})) md.set(k, v);
  return new Promise<T>((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method];
    if (typeof fn !== 'function') {
      reject(new Error(`gRPC method ${method} is not defined`));
      return;
    }
    fn.call(client, request, md, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export const GrpcStatus = grpc.status;
export type GrpcClient = grpc.Client;
export type GrpcError = grpc.ServiceError;

/** The socket could not be reached (runtime down or absent), as opposed to an answer such as NotFound. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
}
