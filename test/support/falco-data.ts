/** Falco's reference data in ../shared/falco (see its README): read in place, never copied into the project. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const FALCO_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/falco');

export function falcoPath(...parts: string[]): string {
  return path.join(FALCO_DATA, ...parts);
}

export interface FilterVector {
  input: string;
  valid: boolean;
  stage: 'parse' | 'compile' | 'eval';
  note: string;
  test: string;
  source: string;
  as_string?: string;
  error?: string;
  parse_error?: string;
  expected_positions?: string;
  ws_variants?: boolean;
  compile_valid?: boolean;
  eval_result?: boolean;
  context?: string;
  warnings?: number;
}

export function filterVectors(): FilterVector[] {
  return JSON.parse(readFileSync(falcoPath('filter_vectors.json'), 'utf8'));
}

/** Every field name a condition's syntax tree reads (the vectors' tests skip those we do not have). */
export function fieldsOf(e: unknown, out: string[] = []): string[] {
  if (!e || typeof e !== 'object') return out;
  const n = e as Record<string, unknown>;
  if (n.kind === 'field') out.push(String(n.field));
  for (const v of Object.values(n)) if (typeof v === 'object') fieldsOf(v, out);
  return out;
}
