/**
 * Rules files as Falco takes them: paths in order, a directory standing for its *.yaml / *.yml files sorted
 * by name; loaded against both sources' field tables.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Priority } from '../alert/priority.ts';
import { loadRules, type LoadResult } from './engine.ts';
import { syscallFields } from './fields/syscall.ts';
import { k8sAuditFields } from './fields/k8s_audit.ts';
import { compileOutputFormat } from './format.ts';

/** Peregrine's own default rules. */
export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../config/rules', import.meta.url));

/**
 * The rules files a run loads, picked as Falco picks them: `-r` files replace the configured list (Falco's -r
 * overrides rules_files), a configured list replaces the defaults, and Peregrine's shipped rules run only when no
 * rules are given at all (and `defaultRules` is on). So the defaults never shadow a user's rules under
 * rule_matching: first.
 */
export function selectRuleFiles(opts: { cli: readonly string[]; configured: readonly string[]; defaultRules: boolean }): string[] {
  if (opts.cli.length > 0) return [...opts.cli];
  if (opts.configured.length > 0) return [...opts.configured];
  return opts.defaultRules ? [DEFAULT_RULES_DIR] : [];
}

export function expandRuleFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      return [p]; // the loader reports the unreadable file
    }
    if (!isDir) return [p];
    return readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(p, f));
  });
}

export function loadRuleFiles(
  paths: readonly string[],
  opts: { ruleMatching?: 'first' | 'all'; minPriority?: Priority; suggestedOutput?: boolean } = {},
): LoadResult & { files: string[] } {
  const files = expandRuleFiles(paths);
  const result = loadRules(files.map((name) => ({ name })), {
    tables: [syscallFields, k8sAuditFields],
    compileOutput: compileOutputFormat,
    // Falco's default append_output: the suggested fields (container.id, container.name …) on every output.
    appendOutput: opts.suggestedOutput === false ? [] : [{ suggestedOutput: true }],
    ...(opts.ruleMatching ? { ruleMatching: opts.ruleMatching } : {}),
    ...(opts.minPriority ? { minPriority: opts.minPriority } : {}),
  });
  return { ...result, files };
}
