import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate for 127.0.0.1 / localhost, made with openssl. */
export function selfSignedCert(): { certFile: string; keyFile: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'prg-tls-'));
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/**
 * A throwaway CA and what it signed, made with openssl: a server certificate for 127.0.0.1 / localhost, a
 * client certificate (CN=falco), and a self-signed client certificate it did not sign. `filesPath` holds
 * client.crt, client.key and ca.crt, Falcosidekick's mutualtlsfilespath layout.
 */
export function testPki() {
  const dir = mkdtempSync(join(tmpdir(), 'prg-pki-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  const signed = (name: string, cn: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1',
      '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  signed('client', 'falco', 'extendedKeyUsage=clientAuth');
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=stranger', '-keyout', f('other.key'), '-out', f('other.crt'));
  const filesPath = f('certs');
  mkdirSync(filesPath);
  for (const n of ['client.crt', 'client.key', 'ca.crt']) writeFileSync(join(filesPath, n), readFileSync(f(n)));
  const read = (n: string) => readFileSync(f(n), 'utf8');
  return {
    caFile: f('ca.crt'), ca: read('ca.crt'), filesPath,
    server: { certFile: f('server.crt'), keyFile: f('server.key'), cert: read('server.crt'), key: read('server.key') },
    client: { certFile: f('client.crt'), keyFile: f('client.key'), cert: read('client.crt'), key: read('client.key') },
    stranger: { cert: read('other.crt'), key: read('other.key') },
  };
}
