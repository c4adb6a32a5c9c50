/**
 * The shape of one entry in the engine's field table. Each event source (syscall, k8s_audit) has one
 * table listing every field it supports: name, type, how it is extracted, description. The compiler
 * resolves field names against a table; the evaluator only ever calls `extract`.
 *
 * Additive changes only: the compiler and the field tables are written against this independently.
 */

/** libsinsp's parameter types, by the names its field lists use (PT_CHARBUF -> 'charbuf' …). */
export type FieldType =
  | 'charbuf' | 'bytebuf' | 'fspath' | 'fsrelpath'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'double'
  | 'bool' | 'ipaddr' | 'ipnet' | 'port' | 'l4proto' | 'sockfamily'
  | 'abstime' | 'reltime' | 'errno' | 'fd' | 'pid' | 'uid' | 'gid' | 'mode' | 'flags32' | 'syscallid' | 'sigtype';

/** What a field extracts: one value, a list (e.g. ka.req.pod.containers.image), or undefined when absent. */
export type FieldScalar = string | number | bigint | boolean | Uint8Array;
export type FieldValue = FieldScalar | FieldScalar[] | undefined;

export interface FieldArgSpec {
  /** proc.aname[2] is an index; ka.uri.param[command] and k8s.pod.label[app] are keys. */
  kind: 'index' | 'key';
  required: boolean;
  /** The argument may also follow a dot: evt.arg.flags, k8s.pod.label.app. */
  dotForm?: boolean;
}

export interface FieldDef<E> {
  name: string;
  type: FieldType;
  /** Extracts a list of values; comparison operators then apply per libsinsp's list semantics. */
  isList?: boolean;
  arg?: FieldArgSpec;
  /**
   * One value per end of a connection (fd.ip, fd.port, fd.net): `!=` holds only when no end equals the
   * constant, as libsinsp compares these; the other operators hold when either end does.
   */
  eitherEnd?: boolean;
  description: string;
  /** Falco appends this field to every rule output of its source by default (a plugin's "suggested output"). */
  suggestedOutput?: boolean;
  /**
   * Checks a right-hand-side constant at compile time; returns the error text when it is not acceptable
   * (evt.type: "unknown event type X"). Absent: any value of the field's type is accepted.
   */
  validateValue?(value: string): string | undefined;
  /**
   * The type for one argument, when it differs from `type`: evt.rawarg.res is a number, evt.rawarg.addr a
   * byte buffer, as the syscall's parameter table says. Undefined: `type`.
   */
  argType?(arg: string): FieldType | undefined;
  extract(event: E, arg: string | undefined): FieldValue;
}

export interface FieldTable<E> {
  /** The rule `source:` this table serves: "syscall" or "k8s_audit". */
  source: string;
  fields: ReadonlyMap<string, FieldDef<E>>;
}

/**
 * The text Falco appends to outputs for a table's suggested fields (append_output: suggested_output), each as
 * "foo_bar=%foo.bar" in table order; undefined when the table suggests none.
 */
export function suggestedOutputFormat(table: FieldTable<unknown>): string | undefined {
  const parts = [...table.fields.values()].filter((d) => d.suggestedOutput).map((d) => `${d.name.replaceAll('.', '_')}=%${d.name}`);
  return parts.length ? parts.join(' ') : undefined;
}

/** Builds a table from a list of definitions, refusing duplicates so the table stays the one source. */
export function fieldTable<E>(source: string, defs: readonly FieldDef<E>[]): FieldTable<E> {
  const fields = new Map<string, FieldDef<E>>();
  for (const d of defs) {
    if (fields.has(d.name)) throw new Error(`field ${d.name} is defined twice in the ${source} table`);
    fields.set(d.name, d);
  }
  return { source, fields };
}
