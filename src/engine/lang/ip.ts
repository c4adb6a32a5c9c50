/** IP address and network constants: normalised once at compile time, tested with node's BlockList. */
import { BlockList, isIP, SocketAddress } from 'node:net';

/** Canonical text of an IPv4/IPv6 address (so "::0001" equals "::1"), or undefined. */
export function parseIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 0) return undefined;
  return family === 4 ? text : (SocketAddress.parse(`[${text}]:0`)?.address ?? text);
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
  const list = new BlockList();
  if (bits === undefined) list.addAddress(addr, type);
  else {
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return undefined;
    list.addSubnet(addr, prefix, type);
  }
  return {
    contains: (ip) => {
      const f = isIP(ip);
      return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
