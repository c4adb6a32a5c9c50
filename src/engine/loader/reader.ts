/**
 * Reads one rules file: YAML documents holding sequences of maps, each map a list, macro, rule or version
 * requirement. Keeps every key's source position so later errors can point at the file, line and column.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type YAMLMap } from 'yaml';
import { LoadError, snippetAt, type LoadDiagnostic, type Location, type WarningCode } from './diagnostics.ts';

export type ItemKind = 'required_engine_version' | 'required_plugin_versions' | 'list' | 'macro' | 'rule';
const KINDS: ItemKind[] = ['required_engine_version', 'required_plugin_versions', 'list', 'macro', 'rule'];

export interface RawItem {
  kind: ItemKind;
  name: string;
  /** The item's keys as plain values. */
  data: Record<string, unknown>;
  at: Location;
  file: RulesFile;
  /** Position of a key's value (the item's position when the key is absent). */
  keyAt(key: string): Location;
  /** Source offsets of a key's value, for locating a token inside a condition. */
  valueRange(key: string): [number, number] | undefined;
}

export interface RulesFile {
  name: string;
  source: string;
  lines: LineCounter;
}

export interface ReadResult {
  items: RawItem[];
  warnings: LoadDiagnostic[];
}

export function locate(file: RulesFile, offset: number): Location {
  const { line, col } = file.lines.linePos(offset);
  return { file: file.name, line, column: col };
}

export function diagnosticAt(file: RulesFile, at: Location, code: LoadDiagnostic['code'], message: string, item?: LoadDiagnostic['item']): LoadDiagnostic {
  const d: LoadDiagnostic = { ...at, code, message };
  if (item) d.item = item;
  const snippet = snippetAt(file.source, at.line, at.column);
  if (snippet) d.snippet = snippet;
  return d;
}

/** Parses the file; throws LoadError on YAML syntax or structure errors. */
export function readRulesFile(name: string, source: string): ReadResult {
  const file: RulesFile = { name, source, lines: new LineCounter() };
  const docs = parseAllDocuments(source, { lineCounter: file.lines, prettyErrors: false, uniqueKeys: false });
  const items: RawItem[] = [];
  const warnings: LoadDiagnostic[] = [];
  const fail = (offset: number, code: LoadDiagnostic['code'], message: string): never => {
    throw new LoadError(diagnosticAt(file, locate(file, offset), code, message));
  };
  for (const doc of 'empty' in docs ? [] : docs) {
    const yamlError = doc.errors[0];
    if (yamlError) fail(yamlError.pos[0], 'LOAD_ERR_YAML_PARSE', yamlError.message.split('\n')[0] ?? 'YAML parse error');
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) continue;
    if (!isSeq(root)) fail(root.range?.[0] ?? 0, 'LOAD_ERR_YAML_VALIDATE', 'Rules content is not yaml array of objects');
    for (const node of (root as { items: unknown[] }).items) {
      if (node === null || (isScalar(node) && node.value === null)) continue;
      if (!isMap(node)) fail((node as Node).range?.[0] ?? 0, 'LOAD_ERR_YAML_VALIDATE', 'Unexpected element type. Each element should be a yaml associative array.');
      const map = node as YAMLMap;
      const data = map.toJSON() as Record<string, unknown>;
      const at = locate(file, map.range?.[0] ?? 0);
      const kind = KINDS.find((k) => k in data);
      if (!kind) {
        warnings.push(diagnosticAt(file, at, 'LOAD_UNKNOWN_ITEM' satisfies WarningCode, 'Unknown top level item'));
        continue;
      }
      const nameValue = data[kind];
      const name = kind === 'list' || kind === 'macro' || kind === 'rule' ? requireName(nameValue) : String(nameValue ?? '');
      if (name === undefined) fail(map.range?.[0] ?? 0, 'LOAD_ERR_YAML_VALIDATE', `Mapping for key '${kind}' is empty`);
      items.push({
        kind,
        name: name!,
        data,
        at,
        file,
        keyAt: (key) => {
          const v = map.get(key, true) as Node | undefined;
          return v?.range ? locate(file, v.range[0]) : at;
        },
        valueRange: (key) => {
          const v = map.get(key, true) as Node | undefined;
          return v?.range ? [v.range[0], v.range[1]] : undefined;
        },
      });
    }
  }
  return { items, warnings };
}

function requireName(v: unknown): string | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  return String(v);
}
