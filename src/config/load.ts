import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';

/** A config has no reason for many YAML aliases; more is an expansion bomb. */
const MAX_YAML_ALIASES = 100;
import { PeregrineError } from '../errors.ts';
import { applyEnv } from './env.ts';
import { configSchema, type PeregrineConfig } from './schema.ts';
import { FALCOSIDEKICK_ONLY_KEYS } from './falcosidekick-keys.ts';

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
  /** Told about Falcosidekick keys that are ignored (outputs Peregrine does not have). */
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
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (err) {
    // The yaml library refuses alias bombs ("billion laughs") with a ReferenceError; say which file and why.
    throw new PeregrineError('PRG_CONFIG_YAML', `${fileName}: ${(err as Error).message} (more than ${MAX_YAML_ALIASES} alias expansions)`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
    throw new PeregrineError('PRG_CONFIG_SHAPE', `${fileName}: the config must be a YAML mapping of keys`);
  }
  const known = new Set(Object.keys(configSchema.shape));
  const input = { ...(raw as Record<string, unknown>) };
  for (const key of FALCOSIDEKICK_ONLY_KEYS) {
    if (key in input && !known.has(key)) {
      delete input[key];
      opts.onWarning?.(`${fileName}: "${key}" is a Falcosidekick key for something Peregrine does not provide; ignored`);
    }
  }
  const { merged, origins } = applyEnv(configSchema, input, opts.env ?? process.env);
  const result = configSchema.safeParse(merged);
  if (result.success) {
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
    const node = doc.getIn(path, true);
    const line = isNode(node) && node.range ? `:${lines.linePos(node.range[0]).line}` : '';
    const what = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return `${fileName}${line}: ${key || '(top level)'}: ${what}`;
  });
  throw new PeregrineError('PRG_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
}
