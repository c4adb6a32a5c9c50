// IPv4 networks answer with integer arithmetic instead of node's BlockList: the answers must be the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import { ipv4Number, parseNet } from '../../src/engine/lang/ip.ts';

const NETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '0.0.0.0/0', '1.2.3.4', '1.2.3.4/32', '255.255.255.255/31', '100.64.0.0/10', '::1', '2001:db8::/32'];
const ADDRESSES = [
  '10.0.0.1', '10.255.255.255', '11.0.0.0', '9.255.255.255', '172.16.5.4', '172.31.255.255', '172.32.0.0', '192.168.1.1',
  '192.169.0.0', '127.0.0.1', '0.0.0.0', '1.2.3.4', '1.2.3.5', '255.255.255.254', '255.255.255.255', '100.127.255.255',
  '100.128.0.0', '::1', '::ffff:10.0.0.1', '2001:db8::5', 'fe80::1',
  // not addresses, or not in the form isIP accepts
  '', 'host', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.04', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.-4', '1234.1.1.1',
];

function reference(net: string, ip: string): boolean {
  const [addr = '', bits] = net.split('/');
  const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  if (bits === undefined) list.addAddress(addr, type);
  else list.addSubnet(addr, Number(bits), type);
  const f = isIP(ip);
  return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
}

test('IPv4 networks: the integer test agrees with BlockList on addresses, edges and non-addresses', () => {
  const differ: string[] = [];
  for (const net of NETS) {
    const parsed = parseNet(net)!;
    for (const ip of ADDRESSES) if (parsed.contains(ip) !== reference(net, ip)) differ.push(`${net} ${JSON.stringify(ip)}`);
  }
  assert.deepEqual(differ, []);
  assert.equal(parseNet('10.0.0.0/8')!.contains('10.1.2.3'), true);
  assert.equal(parseNet('10.0.0.0/8')!.contains('11.1.2.3'), false);
});

test('ipv4Number reads exactly the dotted quads isIP accepts as IPv4', () => {
  for (const ip of ADDRESSES) assert.equal(ipv4Number(ip) >= 0, isIP(ip) === 4, JSON.stringify(ip));
  assert.equal(ipv4Number('1.2.3.4'), 0x01020304);
  assert.equal(ipv4Number('255.255.255.255'), 0xffffffff);
});
