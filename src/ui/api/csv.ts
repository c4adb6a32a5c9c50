import type { StoredAlert } from '../store/contract.ts';
import { stringifyJson } from '../../alert/json.ts';

export const CSV_COLUMNS = ['id', 'time', 'priority', 'rule', 'source', 'hostname', 'tags', 'output', 'output_fields', 'uuid'] as const;

/** One CSV cell (RFC 4180); cells that a spreadsheet would run as a formula get a leading quote. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(a: StoredAlert): string {
  return [String(a.id), a.time, a.priority, a.rule, a.source, a.hostname, a.tags.join(' '), a.output, stringifyJson(a.output_fields), a.uuid]
    .map(cell).join(',') + '\r\n';
}

/** The alert as the API and NDJSON export give it: Falco's JSON plus the store id. */
export function alertJson(a: StoredAlert): Record<string, unknown> {
  return {
    id: a.id, uuid: a.uuid, time: a.time, priority: a.priority, rule: a.rule, source: a.source,
    hostname: a.hostname, tags: a.tags, output: a.output, output_fields: a.output_fields,
  };
}
