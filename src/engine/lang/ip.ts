/**
 * IP address and network constants: normalised once at compile time. IPv4 networks test IPv4 text with
 * integer arithmetic (connect/accept rules check every socket event against rfc_1918_addresses and the
 * like; node's BlockList costs a regex and a native call per check); everything else goes to BlockList.
 */
import { BlockList, isIP, SocketAddress } from 'node:net';

/** Canonical text of an IPv4/IPv6 address (so "::0001" equals "::1"), or undefined. */
export function parseIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 0) return undefined;
  return family === 4 ? text : (SocketAddress.parse(`[${text}]:0`)?.address ?? text);
}

/**
 * Dotted-quad text as an unsigned 32-bit number, or -1 when it is not one in the form node's isIP accepts
 * (four decimal parts 0-255, no leading zeros).
 */
export function ipv4Number(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++parts > 4) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

export interface IpNet {
  contains(ip: string): boolean;
}

/** "10.0.0.0/8", "2001:db8::/32", or a single address. */
export function parseNet(text: string): IpNet | undefined {
  const [addr = '', bits, extra] = text.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  if (bits !== undefined && (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128))) return undefined;
  const list = new BlockList();
  if (bits === undefined) list.addAddress(addr, type);
  else list.addSubnet(addr, prefix, type);
  const slow = (ip: string) => {
    const f = isIP(ip);
    return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
  };
  if (family !== 4) return { contains: slow };
  // Same answer as the BlockList for IPv4 text; other text (IPv6, mapped addresses) still asks it.
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ipv4Number(addr) & mask) >>> 0;
  return {
    contains: (ip) => {
      const v = ipv4Number(ip);
      return v >= 0 ? ((v & mask) >>> 0) === base : slow(ip);
    },
  };
}
