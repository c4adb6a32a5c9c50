import { z } from 'zod';

/**
 * Where `peregrine run` asks for container metadata (Falco's container plugin: engines.*.sockets). An empty socket
 * means the usual places, probed on each lookup: containerd /run/containerd/containerd.sock (and k3s's),
 * CRI-O /run/crio/crio.sock, Docker /var/run/docker.sock, podman /run/podman/podman.sock.
 */
const socket = (what: string) => z.string().default('').meta({ description: `${what} socket path ("" = probe the usual places).` });

export const containerSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({ description: 'Fill container.* and k8s.* fields from the container runtimes (Falco: the container plugin).' }),
  timeoutms: z.int().min(100).max(60000).default(2000).meta({ description: 'Longest wait for one runtime call (lookups run in the background; rules never wait).' }),
  maxentries: z.int().min(16).default(10000).meta({ description: 'Containers kept in the metadata cache.' }),
  containerd: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Ask containerd\'s own API (ctr, nerdctl, Docker\'s moby namespace, Kubernetes\' k8s.io).' }),
    socket: socket('containerd'),
  }).prefault({}),
  cri: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Ask the CRI (containerd\'s CRI plugin, CRI-O) for pod fields and privileged.' }),
    sockets: z.array(z.string()).default([]).meta({ description: 'CRI sockets ([] = containerd\'s socket and CRI-O\'s /run/crio/crio.sock).' }),
  }).prefault({}),
  docker: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Ask Docker\'s Engine API.' }),
    socket: socket('Docker'),
  }).prefault({}),
  podman: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Ask podman\'s Docker-compatible API.' }),
    socket: socket('podman'),
  }).prefault({}),
});
export type ContainerConfig = z.output<typeof containerSchema>;
