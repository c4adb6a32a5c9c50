import type { FalcoAlert } from '../alert/alert.ts';
import { atLeast, type Priority } from '../alert/priority.ts';

/** Which alerts one output instance receives. Empty lists mean "any". */
export interface AlertFilter {
  minimumpriority: Priority | undefined;
  rules: string[];
  tags: string[];
  sources: string[];
}

export function matchesFilter(alert: FalcoAlert, f: AlertFilter): boolean {
  // Falcosidekick lets its synthetic test alert through every priority filter, so POST /test reaches all outputs.
  const isTest = alert.rule === 'Test rule';
  if (f.minimumpriority && !isTest && !atLeast(alert.priority, f.minimumpriority)) return false;
  if (f.rules.length > 0 && !isTest && !f.rules.includes(alert.rule)) return false;
  if (f.tags.length > 0 && !isTest && !f.tags.some((t) => alert.tags.includes(t))) return false;
  if (f.sources.length > 0 && !isTest && !f.sources.includes(alert.source)) return false;
  return true;
}
