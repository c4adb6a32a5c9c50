/**
 * The one place secrets are taken out of text that leaves the process: log lines, error replies, CLI errors.
 * Three kinds: credentials inside URLs (`//user:password@`, even in a malformed URL), secret-looking query
 * parameters (`?token=…`), and the values of secret config keys (passwords, tokens, Slack webhook URLs,
 * custom headers), registered when the config is loaded.
 */

const URL_USERINFO = /\/\/[^\s/@"'<>]+@/g;
/** "user:password@" without "//" too: malformed URLs ("http//u:p@h", "nats:/u:p@h") are where they get echoed. */
const USER_PASSWORD = /([^\s/@"'<>:]+):[^\s/@"'<>]+@/g;
const SECRET_QUERY = /([?&][^=&\s"']*(?:token|key|secret|passw|sig|auth)[^=&\s"']*=)[^&\s"'#]+/gi;
/** Config keys whose values are secret wherever they appear (Falcosidekick's names and ours). */
const SECRET_KEY = /password|passwd|secret|token|apikey|webhookurl|credentials|customheaders|sasl|privatekey/i;
/** Shorter values would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let secretList: string[] = [];

export function registerSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  const before = secrets.size;
  secrets.add(value);
  // The value as it appears inside a JSON log line, when escaping changes it.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) secrets.add(escaped);
  if (secrets.size !== before) secretList = [...secrets].sort((a, b) => b.length - a.length);
}

/** Registers the values under secret keys of a loaded config (any depth; maps such as customheaders whole). */
export function registerConfigSecrets(config: unknown, underSecretKey = false): void {
  if (typeof config === 'string') {
    if (underSecretKey) registerSecret(config);
    return;
  }
  if (Array.isArray(config)) {
    for (const v of config) registerConfigSecrets(v, underSecretKey);
    return;
  }
  if (config && typeof config === 'object') {
    for (const [k, v] of Object.entries(config)) registerConfigSecrets(v, underSecretKey || SECRET_KEY.test(k));
  }
}

/** The text with every known kind of secret replaced by "***". */
export function redactText(text: string): string {
  let out = text.replace(URL_USERINFO, '//***@').replace(USER_PASSWORD, '$1:***@').replace(SECRET_QUERY, '$1***');
  for (const s of secretList) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** A URL for display: scheme, host and "/…" when it has a path (Slack's path is the credential), no userinfo. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/…' : '/'}`;
  } catch {
    return '<invalid url>';
  }
}
