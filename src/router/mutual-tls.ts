import { join } from 'node:path';
import { readConfigFile } from '../../outputs/config-file.ts';
import type { PeregrineConfig } from '../config/schema.ts';
import type { ClientCertificate } from './output.ts';

/**
 * The client certificate outputs with `mutualtls: true` present, found as Falcosidekick finds it: each of
 * mutualtlsclient.certfile / keyfile / cacertfile, or where one is empty, client.crt / client.key / ca.crt
 * in mutualtlsfilespath. Read at start: a missing file stops the start naming the key and the path.
 */
export function loadClientCertificate(config: Pick<PeregrineConfig, 'mutualtlsclient' | 'mutualtlsfilespath'>): ClientCertificate {
  const m = config.mutualtlsclient;
  const read = (key: 'certfile' | 'keyfile' | 'cacertfile', fallback: string) =>
    m[key] ? readConfigFile(`mutualtlsclient.${key}`, m[key]) : readConfigFile('mutualtlsfilespath', join(config.mutualtlsfilespath, fallback));
  return { cert: read('certfile', 'client.crt'), key: read('keyfile', 'client.key'), ca: read('cacertfile', 'ca.crt') };
}
