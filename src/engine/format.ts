/**
 * Rule output strings (libsinsp eventformatter, FILTER_LANGUAGE.md §6): `%field`, `%field[arg]`, `%Nfield`
 * (width), text copied verbatim; missing values print `<NA>` in text and `null` in output_fields, as Falco
 * does (it always formats with `*`). Compiled once per rule into a list of parts.
 */
import { exactInteger } from '../alert/json.ts';
import type { FieldScalar, FieldTable, FieldValue } from './fields/field.ts';
import type { OutputJsonValue } from './rule.ts';
import { iso8601, localTime } from './fields/syscall.ts';
import { resolveField, scalarText } from './lang/compile.ts';
import type { FormattedOutput, OutputFormatter } from './rule.ts';

type Part = string | { key: string; width: number | undefined; extract: (event: any) => FieldValue; render: (v: FieldValue) => string };

const FIELD = /[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+/y;
const ARG = /\[([^\]]*)\]/y;

/** Time fields whose text differs from their value (output_fields keep the ns number, as Falco's do). */
const TIME_TEXT: Record<string, ((ns: bigint) => string) | undefined> = {
  'evt.time': localTime,
  'evt.time.iso8601': (ns) => iso8601(ns, '+0000'),
};

export function compileOutputFormat(format: string, table: FieldTable<any>): OutputFormatter {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      text += c;
      continue;
    }
    if (i === format.length - 1) throw new Error('invalid formatting syntax: formatting cannot end with a %');
    let j = i + 1;
    while (j < format.length && format[j]! >= '0' && format[j]! <= '9') j++;
    if (j === format.length) throw new Error('invalid formatting syntax: formatting cannot end with a number');
    const width = j > i + 1 ? Number(format.slice(i + 1, j)) : undefined;
    FIELD.lastIndex = j;
    const m = FIELD.exec(format);
    if (!m) throw new Error(`invalid formatting token ${format.slice(j).split(/\s/)[0]}`);
    // The longest prefix that names a field wins: "%proc.nameand" is proc.name followed by "and".
    let name = m[0];
    let resolved = resolveField(table, name, undefined);
    while (!resolved && name.length > 1) {
      name = name.slice(0, -1);
      resolved = /\.$/.test(name) ? undefined : resolveField(table, name, undefined);
    }
    if (!resolved) throw new Error(`invalid formatting token ${m[0]}`);
    let end = j + name.length;
    let arg: string | undefined;
    if (name === m[0] && format[end] === '[') {
      ARG.lastIndex = end;
      const a = ARG.exec(format);
      if (a) {
        arg = a[1];
        end += a[0].length;
        resolved = resolveField(table, name, arg);
        if (!resolved) throw new Error(`invalid formatting token ${name}[${arg}]`);
      }
    }
    const { def, arg: fieldArg } = resolved;
    if (fieldArg === undefined && def.arg?.required) throw new Error(`field '${def.name}' requires an argument`);
    if (text) parts.push(text);
    text = '';
    const key = arg === undefined ? name : `${name}[${arg}]`;
    const render = TIME_TEXT[def.name];
    const renderField = render
      ? (v: FieldValue) => (typeof v === 'bigint' ? render(v) : renderText(v, def.isList === true))
      : (v: FieldValue) => renderText(v, def.isList === true);
    parts.push({ key, width, extract: (e) => def.extract(e, fieldArg), render: renderField });
    i = end - 1;
  }
  if (text) parts.push(text);
  return (event) => formatWith(parts, event);
}

function formatWith(parts: Part[], event: unknown): FormattedOutput {
  let text = '';
  const fields: FormattedOutput['fields'] = {};
  for (const p of parts) {
    if (typeof p === 'string') {
      text += p;
      continue;
    }
    const v = p.extract(event);
    let shown = v === undefined ? '<NA>' : p.render(v);
    if (p.width !== undefined) shown = shown.length > p.width ? shown.slice(0, p.width) : shown.padEnd(p.width);
    text += shown;
    fields[p.key] = jsonValue(v);
  }
  return { text, fields };
}

/** Lists print as "(a,b)", like the k8saudit plugin; an any-of field (proc.aname) prints its nearest value. */
function renderText(v: FieldValue, isList: boolean): string {
  if (v === undefined) return '<NA>';
  if (Array.isArray(v)) return isList ? `(${v.map(outputText).join(',')})` : outputText(v[0] ?? '');
  return outputText(v);
}

function jsonValue(v: FieldValue): OutputJsonValue {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => jsonScalar(x));
  return jsonScalar(v);
}

function jsonScalar(v: FieldScalar): string | number | bigint | boolean {
  // 64-bit values (ns times, inode numbers) stay exact: a number when it can hold them, else a bigint
  // that src/alert/json.ts writes as the integer literal, as Falco does.
  if (typeof v === 'bigint') return exactInteger(v);
  if (v instanceof Uint8Array) return bufferText(v);
  return v;
}

/** A field value in an output: byte buffers as libsinsp prints them by default (printable ASCII, others as '.'). */
function outputText(v: FieldScalar): string {
  return v instanceof Uint8Array ? bufferText(v) : scalarText(v);
}

function bufferText(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '.';
  return s;
}
