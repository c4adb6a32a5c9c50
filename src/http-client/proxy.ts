import { BlockList, isIP } from 'node:net';

/**
 * The forward proxy for a request, from the environment as Go's client reads it (Falcosidekick's outputs
 * use Go's default transport, which does): HTTPS_PROXY for https targets, HTTP_PROXY for http ones (upper
 * case first, then lower case), none for localhost or a loopback address, none where NO_PROXY matches.
 * NO_PROXY is a comma list: `*` (everything), a host name (it and its subdomains; `.name` or `*.name` only subdomains),
 * an IP address or a CIDR block, each optionally with `:port`. A proxy given without a scheme is http://.
 * Throws, naming the variable, for a proxy this client cannot use (https:// or socks5:// proxies).
 */
export function proxyFromEnv(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const https = target.protocol === 'https:';
  const name = https ? (env.HTTPS_PROXY ? 'HTTPS_PROXY' : 'https_proxy') : (env.HTTP_PROXY ? 'HTTP_PROXY' : 'http_proxy');
  const value = env[name]?.trim();
  if (!value) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return undefined;
  const port = Number(target.port) || (https ? 443 : 80);
  if (noProxyMatches(env.NO_PROXY || env.no_proxy || '', host, port)) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new Error(`${name} is not a URL`);
  }
  if (proxy.protocol !== 'http:') throw new Error(`${name}: only http:// proxies are supported, not ${proxy.protocol}//`);
  return proxy;
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

function noProxyMatches(list: string, host: string, port: number): boolean {
  for (const raw of list.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    // An optional :port (IPv6 entries in brackets when they carry one).
    const m = /^\[(.+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    let entryPort: number | undefined;
    if (m) {
      entry = m[1]!;
      entryPort = m[2] ? Number(m[2]) : undefined;
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    if (entry.includes('/')) {
      const [net, bits] = entry.split('/');
      const type = isIP(net!);
      if (type && isIP(host) === type) {
        const list = new BlockList();
        list.addSubnet(net!, Number(bits), type === 4 ? 'ipv4' : 'ipv6');
        if (list.check(host, type === 4 ? 'ipv4' : 'ipv6')) return true;
      }
      continue;
    }
    if (isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    // "*.name" is ".name", as in Go's reading.
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

/** `Basic …` for credentials in a URL, or undefined when it has none. */
export function basicAuth(u: URL): string | undefined {
  if (!u.username && !u.password) return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}
