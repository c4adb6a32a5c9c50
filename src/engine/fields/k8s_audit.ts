/**
 * The k8s_audit source's field table: the `ka.*` and `jevt.*` fields of the k8saudit plugin, extracted from an
 * audit.k8s.io Event object. Names and meanings follow the plugin's; lists are real lists (`in`/`intersects`).
 */
import type { K8sAuditEvent } from '../event.ts';
import { def, listDef, KEY_ARG } from './define.ts';
import { fieldTable, type FieldDef, type FieldScalar, type FieldTable } from './field.ts';
import { globMatcher } from '../lang/match.ts';

type E = K8sAuditEvent;
type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follows a path of keys; undefined as soon as one is missing. */
function at(v: Json, ...keys: string[]): Json {
  for (const k of keys) {
    if (!isObj(v)) return undefined;
    v = v[k];
  }
  return v;
}

function str(v: Json): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function arr(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

/** A JSON value as text: strings as they are, the rest as compact JSON. */
function text(v: Json): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function nonEmpty<T>(xs: T[]): T[] | undefined {
  return xs.length ? xs : undefined;
}

/** "repo/name:tag" or "repo/name@sha256:..." → "repo/name". */
export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

const req = (e: E, ...keys: string[]) => at(e.raw, 'requestObject', ...keys);

type ContainerKind = 'containers' | 'initContainers' | 'ephemeralContainers';

function containers(e: E, kind: ContainerKind): Obj[] {
  const spec = req(e, 'spec');
  // A request for an ephemeral container names them at the top of the object (the pod's ephemeralcontainers subresource).
  const list = kind === 'ephemeralContainers' && at(spec, kind) === undefined ? req(e, kind) : at(spec, kind);
  return arr(list).filter(isObj);
}

function containerFields(kind: ContainerKind): FieldDef<E>[] {
  const base = `ka.req.pod.${kind}`;
  const per = <T extends FieldScalar>(pick: (c: Obj) => T | undefined) => (e: E) =>
    nonEmpty(containers(e, kind).map(pick).filter((x): x is T => x !== undefined));
  return [
    listDef(`${base}.image`, 'charbuf', `Images of the pod's ${kind}.`, per((c) => str(c.image))),
    listDef(`${base}.image.repository`, 'charbuf', `Image repositories of the pod's ${kind}.`, per((c) => {
      const image = str(c.image);
      return image === undefined ? undefined : imageRepository(image);
    })),
    listDef(`${base}.privileged`, 'bool', `securityContext.privileged of each of the pod's ${kind} (false when unset).`,
      per((c) => at(c, 'securityContext', 'privileged') === true)),
    listDef(`${base}.host_port`, 'charbuf', `Host ports of the pod's ${kind}.`, (e) =>
      nonEmpty(containers(e, kind).flatMap((c) => arr(c.ports).map((p) => str(at(p, 'hostPort'))).filter((x): x is string => x !== undefined)))),
    listDef(`${base}.allow_privilege_escalation`, 'bool', `securityContext.allowPrivilegeEscalation of each of the ${kind}.`,
      per((c) => at(c, 'securityContext', 'allowPrivilegeEscalation') === true)),
    listDef(`${base}.read_only_fs`, 'bool', `securityContext.readOnlyRootFilesystem of each of the ${kind}.`,
      per((c) => at(c, 'securityContext', 'readOnlyRootFilesystem') === true)),
    listDef(`${base}.run_as_user`, 'charbuf', `securityContext.runAsUser of each of the ${kind}.`,
      per((c) => str(at(c, 'securityContext', 'runAsUser')))),
    listDef(`${base}.add_capabilities`, 'charbuf', `Capabilities added by the ${kind}.`, (e) =>
      nonEmpty(containers(e, kind).flatMap((c) => arr(at(c, 'securityContext', 'capabilities', 'add')).map(str).filter((x): x is string => x !== undefined)))),
  ];
}

function subjects(e: E): Obj[] {
  return arr(req(e, 'subjects')).filter(isObj);
}

function roleRules(e: E): Obj[] {
  return arr(req(e, 'rules')).filter(isObj);
}

function flatRule(key: string) {
  return (e: E) => nonEmpty(roleRules(e).flatMap((r) => arr(r[key]).map(str).filter((x): x is string => x !== undefined)));
}

function hostPaths(e: E): string[] {
  return arr(req(e, 'spec', 'volumes')).map((v) => str(at(v, 'hostPath', 'path'))).filter((x): x is string => x !== undefined);
}

/** RFC 6901 JSON pointer. */
function pointer(doc: Json, ptr: string): Json {
  if (ptr === '') return doc;
  if (!ptr.startsWith('/')) return undefined;
  let v = doc;
  for (const raw of ptr.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(v)) v = /^\d+$/.test(key) ? v[Number(key)] : undefined;
    else if (isObj(v)) v = v[key];
    else return undefined;
  }
  return v;
}

const fields: FieldDef<E>[] = [
  def('jevt.time', 'charbuf', 'Event time (stageTimestamp) as text.', (e) => str(e.raw.stageTimestamp)),
  def('jevt.time.iso8601', 'charbuf', 'Event time (stageTimestamp) as ISO 8601.', (e) => str(e.raw.stageTimestamp)),
  def('jevt.rawtime', 'abstime', 'Event time in ns since the epoch.', (e) => e.ts),
  def('jevt.value', 'charbuf', 'A value by JSON pointer: jevt.value[/requestObject/spec/hostNetwork].', (e, arg) => text(pointer(e.raw, arg ?? '')), { arg: KEY_ARG }),
  def('jevt.obj', 'charbuf', 'The whole event as JSON.', (e) => JSON.stringify(e.raw)),
  def('ka.auditid', 'charbuf', 'Audit id.', (e) => str(e.raw.auditID)),
  def('ka.stage', 'charbuf', 'Stage: RequestReceived, ResponseStarted, ResponseComplete, Panic.', (e) => str(e.raw.stage)),
  def('ka.auth.decision', 'charbuf', 'Authorization decision (allow/forbid).', (e) => str(at(e.raw, 'annotations', 'authorization.k8s.io/decision'))),
  def('ka.auth.reason', 'charbuf', 'Authorization reason.', (e) => str(at(e.raw, 'annotations', 'authorization.k8s.io/reason'))),
  def('ka.user.name', 'charbuf', 'User name.', (e) => str(at(e.raw, 'user', 'username'))),
  listDef('ka.user.groups', 'charbuf', 'Groups of the user.', (e) => nonEmpty(arr(at(e.raw, 'user', 'groups')).map(str).filter((x): x is string => x !== undefined))),
  def('ka.impuser.name', 'charbuf', 'Impersonated user name.', (e) => str(at(e.raw, 'impersonatedUser', 'username'))),
  def('ka.verb', 'charbuf', 'Action verb (create, get, delete ...).', (e) => str(e.raw.verb)),
  def('ka.uri', 'charbuf', 'Request URI.', (e) => str(e.raw.requestURI)),
  def('ka.uri.param', 'charbuf', 'A query parameter of the request URI: ka.uri.param[command].', (e, arg) => {
    const uri = str(e.raw.requestURI);
    if (uri === undefined || arg === undefined) return undefined;
    const q = uri.indexOf('?');
    return q < 0 ? undefined : new URLSearchParams(uri.slice(q + 1)).get(arg) ?? undefined;
  }, { arg: KEY_ARG }),
  def('ka.useragent', 'charbuf', 'User agent of the client.', (e) => str(e.raw.userAgent)),
  listDef('ka.sourceips', 'charbuf', 'Source IPs of the request.', (e) => nonEmpty(arr(e.raw.sourceIPs).map(str).filter((x): x is string => x !== undefined))),
  def('ka.target.name', 'charbuf', 'Target object name.', (e) => str(at(e.raw, 'objectRef', 'name'))),
  def('ka.target.namespace', 'charbuf', 'Target object namespace.', (e) => str(at(e.raw, 'objectRef', 'namespace'))),
  def('ka.target.resource', 'charbuf', 'Target object resource.', (e) => str(at(e.raw, 'objectRef', 'resource'))),
  def('ka.target.subresource', 'charbuf', 'Target object subresource.', (e) => str(at(e.raw, 'objectRef', 'subresource'))),
  def('ka.req.binding.subjects', 'charbuf', 'Subjects linked by a role binding, as a list text.', (e) => {
    const names = subjects(e).map((s) => str(s.name)).filter((x): x is string => x !== undefined);
    return names.length ? `(${names.join(',')})` : undefined;
  }),
  def('ka.req.binding.role', 'charbuf', 'Role a binding refers to.', (e) => str(req(e, 'roleRef', 'name'))),
  def('ka.req.binding.subject.has_name', 'bool', 'The binding has a subject with this name: ka.req.binding.subject.has_name[name].', (e, arg) =>
    req(e, 'subjects') === undefined ? undefined : subjects(e).some((s) => s.name === arg), { arg: KEY_ARG }),
  def('ka.req.configmap.name', 'charbuf', 'Name of the configmap in the request.', (e) => str(req(e, 'metadata', 'name'))),
  def('ka.req.configmap.obj', 'charbuf', 'Data of the configmap in the request, as JSON.', (e) => text(req(e, 'data'))),
  def('ka.req.container.image', 'charbuf', "Image of the pod's first container (deprecated: use ka.req.pod.containers.image).", (e) => str(containers(e, 'containers')[0]?.image)),
  def('ka.req.container.image.repository', 'charbuf', "Repository of the first container's image (deprecated).", (e) => {
    const image = str(containers(e, 'containers')[0]?.image);
    return image === undefined ? undefined : imageRepository(image);
  }),
  def('ka.req.container.privileged', 'bool', 'Any container of the pod is privileged (deprecated).', (e) =>
    req(e, 'spec', 'containers') === undefined ? undefined : containers(e, 'containers').some((c) => at(c, 'securityContext', 'privileged') === true)),
  def('ka.req.container.host_network', 'bool', 'hostNetwork of the pod (deprecated: use ka.req.pod.host_network).', (e) => hostFlag(e, 'hostNetwork')),
  def('ka.req.pod.host_network', 'bool', 'hostNetwork of the pod (false when unset).', (e) => hostFlag(e, 'hostNetwork')),
  def('ka.req.pod.host_pid', 'bool', 'hostPID of the pod.', (e) => hostFlag(e, 'hostPID')),
  def('ka.req.pod.host_ipc', 'bool', 'hostIPC of the pod.', (e) => hostFlag(e, 'hostIPC')),
  def('ka.req.pod.run_as_user', 'charbuf', 'Pod-level runAsUser.', (e) => str(req(e, 'spec', 'securityContext', 'runAsUser'))),
  def('ka.req.pod.run_as_group', 'charbuf', 'Pod-level runAsGroup.', (e) => str(req(e, 'spec', 'securityContext', 'runAsGroup'))),
  def('ka.req.pod.fs_group', 'charbuf', 'Pod-level fsGroup.', (e) => str(req(e, 'spec', 'securityContext', 'fsGroup'))),
  listDef('ka.req.pod.supplemental_groups', 'charbuf', 'Pod-level supplementalGroups.', (e) =>
    nonEmpty(arr(req(e, 'spec', 'securityContext', 'supplementalGroups')).map(str).filter((x): x is string => x !== undefined))),
  listDef('ka.req.pod.volumes.hostpath', 'charbuf', 'hostPath paths of the pod volumes.', (e) => nonEmpty(hostPaths(e))),
  listDef('ka.req.pod.volumes.volume_type', 'charbuf', 'Volume types of the pod (hostPath, secret, configMap ...).', (e) =>
    nonEmpty(arr(req(e, 'spec', 'volumes')).filter(isObj).flatMap((v) => Object.keys(v).filter((k) => k !== 'name')))),
  def('ka.req.volume.hostpath', 'bool', 'A hostPath volume matches the glob: ka.req.volume.hostpath[/etc*] (deprecated).', (e, arg) => {
    if (req(e, 'spec', 'volumes') === undefined || arg === undefined) return undefined;
    const match = globMatcher(arg, false);
    return hostPaths(e).some(match);
  }, { arg: KEY_ARG }),
  ...containerFields('containers'),
  ...containerFields('initContainers'),
  ...containerFields('ephemeralContainers'),
  listDef('ka.req.role.rules', 'charbuf', 'Rules of the role in the request, each as JSON.', (e) => nonEmpty(roleRules(e).map((r) => JSON.stringify(r)))),
  listDef('ka.req.role.rules.apigroups', 'charbuf', 'API groups of the role rules.', flatRule('apiGroups')),
  listDef('ka.req.role.rules.resources', 'charbuf', 'Resources of the role rules.', flatRule('resources')),
  listDef('ka.req.role.rules.verbs', 'charbuf', 'Verbs of the role rules.', flatRule('verbs')),
  def('ka.req.service.type', 'charbuf', 'Type of the service in the request.', (e) => str(req(e, 'spec', 'type'))),
  listDef('ka.req.service.ports', 'charbuf', 'Ports of the service in the request, each as JSON.', (e) => nonEmpty(arr(req(e, 'spec', 'ports')).map((p) => JSON.stringify(p)))),
  def('ka.resp.name', 'charbuf', 'Name of the object in the response.', (e) => str(at(e.raw, 'responseObject', 'metadata', 'name'))),
  def('ka.response.code', 'charbuf', 'Response code as text.', (e) => str(at(e.raw, 'responseStatus', 'code'))),
  def('ka.response.reason', 'charbuf', 'Response reason.', (e) => str(at(e.raw, 'responseStatus', 'reason'))),
];

function hostFlag(e: E, key: string): boolean | undefined {
  const spec = req(e, 'spec');
  return isObj(spec) ? spec[key] === true : undefined;
}

export const k8sAuditFields: FieldTable<K8sAuditEvent> = fieldTable('k8s_audit', fields);
