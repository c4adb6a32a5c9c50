import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';

/** A config has no reason for many YAML aliases; more is an expansion bomb. */
const MAX_YAML_ALIASES = 100;
import { PeregrineError } from '../errors.ts';
import { applyEnv } from './env.ts';
import { configSchema, type PeregrineConfig } from './schema.ts';
import { ignoredEnvNames } from './falcosidekick-keys.ts';
import { takeIgnoredKeys } from './ignored-keys.ts';
import { readYamlTree } from './yaml-tree.ts';

export type { PeregrineConfig };

/** The embedded default config, used when no file is given. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/peregrine.yaml', import.meta.url));

export interface LoadConfigOptions {
  /** Path of a YAML file; its name appears in errors. */
  file?: string;
  /** YAML text (tests, embedding); used instead of file. */
  yamlText?: string;
  /** Environment for Falcosidekick-style overrides; defaults to process.env. Pass {} to ignore it. */
  env?: Record<string, string | undefined>;
  /**
   * Told about what loads but does nothing: one line listing every ignored Falcosidekick key (outputs and
   * features Peregrine does not have), and custom fields whose %VARIABLE is not set.
   */
  onWarning?: (message: string) => void;
}

/**
 * Reads YAML, applies env overrides, validates. Every problem is reported at once with its key path,
 * the file line where the key is, or the env variable that set it.
 */
export function loadConfig(opts: LoadConfigOptions = {}): PeregrineConfig {
  const fileName = opts.yamlText !== undefined ? '<config>' : (opts.file ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = opts.yamlText ?? readFileSync(fileName, 'utf8');
  } catch (err) {
    throw new PeregrineError('PRG_CONFIG_READ', `cannot read config file ${fileName}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0];
    throw new PeregrineError('PRG_CONFIG_YAML', `${fileName}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]}`);
  }
  try {
    // Only to refuse alias bombs before the tree below expands aliases.
    doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The yaml library refuses alias bombs ("billion laughs") with a ReferenceError; say which file and why.
    throw new PeregrineError('PRG_CONFIG_YAML', `${fileName}: ${(err as Error).message} (more than ${MAX_YAML_ALIASES} alias expansions)`);
  }
  const tree = readYamlTree(doc, lines);
  if (tree.duplicates.length > 0) {
    throw new PeregrineError('PRG_CONFIG_YAML', `${fileName}: keys are case-insensitive (as in Falcosidekick) and these are set twice: ${tree.duplicates.join(', ')}`);
  }
  const raw = tree.value as unknown;
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
    throw new PeregrineError('PRG_CONFIG_SHAPE', `${fileName}: the config must be a YAML mapping of keys`);
  }
  const input = raw as Record<string, unknown>;
  const ignored = takeIgnoredKeys(input, configSchema, (key) => `${fileName}:${tree.lines.get(key) ?? '?'}: ${key}`);
  const env = opts.env ?? process.env;
  const { merged, origins } = applyEnv(configSchema, input, env);
  const ignoredEnv = ignoredEnvNames(env, new Set(Object.keys(configSchema.shape)));
  if (ignored.length > 0 || ignoredEnv.length > 0) {
    const what = [...ignored, ...ignoredEnv.map((n) => `env ${n}`)].join(', ');
    opts.onWarning?.(`${fileName}: ignored Falcosidekick keys (outputs or features Peregrine does not have): ${what}`);
  }
  const result = configSchema.safeParse(merged);
  if (result.success) {
    const config = result.data;
    config.customfields = resolveCustomFieldVariables(config.customfields, env, opts.onWarning);
    // The spool lives beside the config file unless told otherwise; YAML given as text has no file (then
    // "" stays and the router uses a temporary directory).
    const base = opts.yamlText === undefined ? dirname(resolve(fileName)) : process.cwd();
    const dir = result.data.spool.dir;
    if (dir !== '' || opts.yamlText === undefined) result.data.spool.dir = resolve(base, dir === '' ? 'spool' : dir);
    // The UI store likewise: ui.sqlite beside the config file; "" from YAML text is an in-memory store.
    const ui = (result.data as { ui?: { dbfile: string } }).ui;
    if (ui && (ui.dbfile !== '' || opts.yamlText === undefined)) ui.dbfile = resolve(base, ui.dbfile === '' ? 'ui.sqlite' : ui.dbfile);
    return result.data;
  }

  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    const key = path.join('.');
    const envName = origins.get(key);
    if (envName) return `env ${envName} (${key}): ${issue.message}`;
    const at = tree.lines.get(issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]].join('.') : key) ?? tree.lines.get(key);
    const line = at ? `:${at}` : '';
    const what = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return `${fileName}${line}: ${key || '(top level)'}: ${what}`;
  });
  throw new PeregrineError('PRG_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * Falcosidekick's CUSTOMFIELDS=cluster:%MYCLUSTER takes the value of $MYCLUSTER (its config_example says
 * the same of YAML customfields; Peregrine does it for both). An unset or empty variable leaves the field
 * out with a warning, as Falcosidekick does.
 */
function resolveCustomFieldVariables(fields: Record<string, string>, env: Record<string, string | undefined>,
  warn: ((message: string) => void) | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (!v.startsWith('%')) { out[k] = v; continue; }
    const value = env[v.slice(1)];
    if (value) out[k] = value;
    else warn?.(`customfields.${k}: environment variable ${v.slice(1)} is not set; the field is left out`);
  }
  return out;
}
