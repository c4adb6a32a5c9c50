// Falco's k8s audit regression cases (../shared/falco/k8s_audit_samples/expected_detections.json), shared by
// the engine-level replay and the end-to-end replay through `peregrine run`'s audit endpoint.
import { existsSync, readFileSync } from 'node:fs';
import { falcoPath } from './falco-data.ts';

export interface AuditCase {
  test: string;
  trace_files: string[];
  rules_files: string[];
  detect: boolean;
  detect_counts: Record<string, number>;
  stderr_contains: string | null;
}

export const AUDIT_CASES: AuditCase[] = (JSON.parse(readFileSync(falcoPath('k8s_audit_samples', 'expected_detections.json'), 'utf8')) as { tests: AuditCase[] }).tests;

/** A rules file of a case: Falco's stock files, else the test-only ones beside the samples. */
export function auditRulesPath(name: string): string {
  for (const p of [falcoPath(name), falcoPath('k8s_audit_samples', 'test_rules', name)]) if (existsSync(p)) return p;
  throw new Error(`rules file ${name} not found`);
}

/** The lines of a trace file, one audit Event each. */
export function auditTraceLines(trace: string): string[] {
  return readFileSync(falcoPath('k8s_audit_samples', trace), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/**
 * Rules files of mid-2023 that today's Falco refuses too: the engine_v4 file uses `contains` on a list field, and
 * trust_nginx_container.yaml appends to lists the current k8s_audit_rules.yaml no longer has. Those items are
 * reported and left out; everything else in the files still loads.
 */
export const AUDIT_RULES_DRIFT = [
  { file: 'engine_v4_k8s_audit_rules.yaml', message: "'contains' operator not supported list filters" },
  { file: 'trust_nginx_container.yaml', message: 'no list by that name already exists' },
];

/** 12 of 66 cases cannot be checked against today's rules, and why; the other 54 are. */
export const AUDIT_CASES_DRIFTED: string[] = [
  'compat_engine_v4_create_hostnetwork_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'compat_engine_v4_create_privileged_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_clusterrole: rules renamed or removed since 2023: K8s Role/Clusterrole Created',
  'create_clusterrolebinding: rules renamed or removed since 2023: K8s Role/Clusterrolebinding Created',
  'create_hostnetwork_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_nohostnetwork_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_privileged_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_sensitive_mount_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_unprivileged_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'create_unsensitive_mount_trusted_pod: trust_nginx_container.yaml appends to lists that no longer exist',
  'delete_clusterrole: rules renamed or removed since 2023: K8s Role/Clusterrole Deleted',
  'delete_clusterrolebinding: rules renamed or removed since 2023: K8s Role/Clusterrolebinding Deleted',
];

/**
 * Rules today's stock files add that the 2023 files gated (K8s * Created/Deleted, Disallowed K8s User): a case
 * that expects no detection means the rule it exercises stays silent, not these.
 */
export function isHousekeepingRule(name: string): boolean {
  return /^K8s \w+ (Created|Deleted)$|^Disallowed K8s User$/.test(name);
}

/** Checks one case's alert counts per rule; returns the failure text or undefined. */
export function checkAuditCounts(c: AuditCase, counts: Record<string, number>): string | undefined {
  for (const [rule, n] of Object.entries(c.detect_counts)) {
    if ((counts[rule] ?? 0) !== n) return `${rule}: expected ${n}, got ${counts[rule] ?? 0} in ${JSON.stringify(counts)}`;
  }
  if (!c.detect) {
    const loud = Object.keys(counts).filter((name) => !isHousekeepingRule(name));
    if (loud.length) return `expected no detection, got ${JSON.stringify(counts)}`;
  }
  return undefined;
}
