/** Small constructors for field-table entries, so each table reads as one line per field. */
import type { FieldArgSpec, FieldDef, FieldType, FieldValue } from './field.ts';

type Extract<E> = (event: E, arg: string | undefined) => FieldValue;

export function def<E>(name: string, type: FieldType, description: string, extract: Extract<E>, more: Partial<FieldDef<E>> = {}): FieldDef<E> {
  return { name, type, description, extract, ...more };
}

/** A field that extracts a list of values (`in`/`intersects` apply to the whole list). */
export function listDef<E>(name: string, type: FieldType, description: string, extract: Extract<E>, more: Partial<FieldDef<E>> = {}): FieldDef<E> {
  return { name, type, description, extract, isList: true, ...more };
}

export const INDEX_ARG: FieldArgSpec = { kind: 'index', required: false };
export const KEY_ARG: FieldArgSpec = { kind: 'key', required: true };
export const KEY_ARG_DOT: FieldArgSpec = { kind: 'key', required: true, dotForm: true };
