import { z } from 'zod';
import { MAX_TIMER_MS } from './limits.ts';
import { PRIORITIES, type Priority } from '../alert/priority.ts';
import { parseConfigPriority } from './priority-schema.ts';

/**
 * Settings of `peregrine run` (the detection core). Falco's falco.yaml names are given in each
 * description so a Falco user can translate theirs; keys stay lowercase without separators like the
 * rest of the config, so env overrides work the same way (detector.rulematching -> DETECTOR_RULEMATCHING).
 */
const priority = z.string().default('debug').transform((s, ctx): Priority => {
  const p = parseConfigPriority(s);
  if (!p) ctx.addIssue({ code: 'custom', message: `unknown priority "${s}" (expected one of ${PRIORITIES.join(', ')})` });
  return p ?? 'debug';
});

export const detectorSchema = z.strictObject({
  defaultrules: z.boolean().default(true).meta({ description: 'Run the rules shipped in config/rules/ when no rules are given (no -r, empty rulesfiles); false: never.' }),
  rulesfiles: z.array(z.string()).default([]).meta({ description: 'Rule files or directories, loaded in order instead of the defaults (Falco: rules_files; `-r` replaces it).' }),
  suggestedoutput: z.boolean().default(true).meta({ description: 'Append the suggested fields (container_id=%container.id, container_name, image, k8s pod and namespace) to every syscall rule output (Falco: append_output suggested_output).' }),
  rulematching: z.enum(['first', 'all']).default('first').meta({ description: 'first: at most one alert per event; all: one per matching rule (Falco: rule_matching).' }),
  minimumpriority: priority.meta({ description: 'Rules below this priority are not loaded (Falco: priority).' }),
  hostname: z.string().default('').meta({ description: 'hostname in alerts ("" = $FALCO_HOSTNAME or the machine\'s name).' }),
  stdout: z.boolean().default(true).meta({ description: 'Print alerts on stdout (Falco: stdout_output.enabled).' }),
  jsonoutput: z.boolean().default(false).meta({ description: 'Print alerts as Falco JSON lines instead of text (Falco: json_output).' }),
  timeformatiso8601: z.boolean().default(false).meta({ description: 'Text alerts start with an ISO 8601 time (Falco: time_format_iso_8601).' }),
  k8saudit: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Accept Kubernetes audit events over HTTP on the router\'s port.' }),
    path: z.string().regex(/^\//, 'must start with "/"').default('/k8s-audit').meta({ description: 'Path the API server\'s audit webhook posts to.' }),
  }).prefault({}),
  capture: z.strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Capture syscalls with eBPF (needs root or CAP_BPF+CAP_PERFMON, and kernel BTF).' }),
    ringbuffermb: z.int().min(1).max(1024).default(8).meta({ description: 'Kernel ring buffer size in MiB (rounded up to a power of two).' }),
  }).prefault({}),
  syscalleventdrops: z.strictObject({
    alert: z.boolean().default(true).meta({ description: 'Raise the "Falco internal: syscall event drop" alert (Falco: syscall_event_drops.actions).' }),
    intervalms: z.int().min(1000).max(MAX_TIMER_MS).default(30000).meta({ description: 'At most one drop alert per interval (Falco: rate 0.03333, max_burst 1).' }),
  }).prefault({}),
});
export type DetectorConfig = z.output<typeof detectorSchema>;
