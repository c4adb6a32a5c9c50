/** What loading rules reports: Falco's error and warning codes, each pinned to a file, line and column. */

export type ErrorCode =
  | 'LOAD_ERR_FILE_READ' | 'LOAD_ERR_YAML_PARSE' | 'LOAD_ERR_YAML_VALIDATE' | 'LOAD_ERR_COMPILE_CONDITION'
  | 'LOAD_ERR_COMPILE_OUTPUT' | 'LOAD_ERR_VALIDATE';

export type WarningCode =
  | 'LOAD_UNKNOWN_SOURCE' | 'LOAD_UNSAFE_NA_CHECK' | 'LOAD_NO_EVTTYPE' | 'LOAD_UNKNOWN_FILTER' | 'LOAD_UNUSED_MACRO' | 'LOAD_UNUSED_LIST'
  | 'LOAD_UNKNOWN_ITEM' | 'LOAD_DEPRECATED_ITEM' | 'LOAD_APPEND_NO_VALUES' | 'LOAD_EXCEPTION_NAME_NOT_UNIQUE'
  | 'LOAD_INVALID_MACRO_NAME' | 'LOAD_INVALID_LIST_NAME' | 'LOAD_COMPILE_CONDITION' | 'LOAD_UNKNOWN_KEY';

export const CODE_DESCRIPTIONS: Record<ErrorCode | WarningCode, string> = {
  LOAD_ERR_FILE_READ: 'Could not read file',
  LOAD_ERR_YAML_PARSE: 'YAML parse error',
  LOAD_ERR_YAML_VALIDATE: 'Error validating internal structure of YAML file',
  LOAD_ERR_COMPILE_CONDITION: 'Error compiling condition',
  LOAD_ERR_COMPILE_OUTPUT: 'Error compiling output',
  LOAD_ERR_VALIDATE: 'Error validating rule/macro/list/exception objects',
  LOAD_UNKNOWN_SOURCE: 'Unknown event source',
  LOAD_UNSAFE_NA_CHECK: 'Unsafe <NA> comparison in condition',
  LOAD_NO_EVTTYPE: 'No event types specified',
  LOAD_UNKNOWN_FILTER: 'Unknown filter',
  LOAD_UNUSED_MACRO: 'Unused macro',
  LOAD_UNUSED_LIST: 'Unused list',
  LOAD_UNKNOWN_ITEM: 'Unknown rules file item',
  LOAD_DEPRECATED_ITEM: 'Used deprecated item',
  LOAD_APPEND_NO_VALUES: 'Overriding/appending exception with no values',
  LOAD_EXCEPTION_NAME_NOT_UNIQUE: 'Multiple exceptions defined with the same name',
  LOAD_INVALID_MACRO_NAME: 'Invalid macro name',
  LOAD_INVALID_LIST_NAME: 'Invalid list name',
  LOAD_COMPILE_CONDITION: 'Warning in rule condition',
  LOAD_UNKNOWN_KEY: 'Unknown key in rules file item',
};

export interface Location {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface LoadDiagnostic extends Location {
  code: ErrorCode | WarningCode;
  message: string;
  /** The rule, macro or list the problem is in. */
  item?: { type: 'rule' | 'macro' | 'list' | 'required_engine_version' | 'required_plugin_versions' | 'item'; name: string };
  /** The source line with a caret under the column. */
  snippet?: string;
  /** Set when a resource limit (loader/limits.ts) was passed: `run` refuses to start rather than skip the item. */
  limit?: true;
}

/** Thrown inside the loader to abort the current file with one error. */
export class LoadError extends Error {
  readonly diagnostic: LoadDiagnostic;
  constructor(diagnostic: LoadDiagnostic) {
    super(diagnostic.message);
    this.diagnostic = diagnostic;
  }
}

/** "file:line:col: rule 'x': CODE (description): message" then the snippet, as the CLI and logs print it. */
export function formatDiagnostic(d: LoadDiagnostic): string {
  const item = d.item ? ` ${d.item.type} '${d.item.name}':` : '';
  const head = `${d.file}:${d.line}:${d.column}:${item} ${d.code} (${CODE_DESCRIPTIONS[d.code]}): ${d.message}`;
  return d.snippet ? `${head}\n${d.snippet}` : head;
}

/** The source line holding the position, at most 80 characters each side, and a caret under the column. */
export function snippetAt(source: string, line: number, column: number): string | undefined {
  const text = source.split('\n')[line - 1];
  if (text === undefined) return undefined;
  const start = Math.max(0, column - 1 - 80);
  const end = Math.min(text.length, column - 1 + 80);
  const prefix = start > 0 ? '...' : '';
  const shown = `${prefix}${text.slice(start, end)}${end < text.length ? '...' : ''}`;
  return `${shown}\n${' '.repeat(prefix.length + column - 1 - start)}^`;
}
