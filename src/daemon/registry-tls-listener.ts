// daemon/registry-tls-listener: the control API and registry's app served again over HTTPS
// (settings.registryTls), with the certificate registry-ca.ts issues from Skiff's own CA: every route of
// `listen`, with its own connection limit of the same size. A daemon running for a year keeps a valid
// certificate: checked daily, re-issued (same CA) when it nears its end or the machine's names changed,
// and swapped in for new connections.
import https from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { HostPort } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { RegistryTlsMaterial } from './registry-ca.ts';

export interface RegistryTlsListenerOptions {
  app: FastifyInstance;
  at: HostPort;
  /** the setting as given, for errors */
  setting: string;
  material: RegistryTlsMaterial;
  /** the certificate now (re-issued when due) */
  renew(): Promise<RegistryTlsMaterial>;
  /** 0: no limit */
  maxConnections: number;
  clock: Clock;
  log: Logger;
}

export async function listenRegistryTls(o: RegistryTlsListenerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = https.createServer({ cert: o.material.cert, key: o.material.key, minVersion: 'TLSv1.2' }, (req, res) => o.app.routing(req, res));
  for (const key of ['keepAliveTimeout', 'headersTimeout', 'requestTimeout', 'timeout'] as const) server[key] = o.app.server[key];
  if (o.maxConnections > 0) server.maxConnections = o.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.at.port, o.at.host, () => (server.off('error', reject), resolve()));
  }).catch((err: Error) => {
    throw new SkiffError('CONFIG_INVALID', `cannot listen on registryTls ${o.setting}: ${err.message}`, { cause: err });
  });
  server.on('error', (err) => o.log.error({ err }, 'registry TLS listener error'));
  let served = o.material.cert;
  const recheck = o.clock.every(24 * 3600_000, () => {
    void o.renew().then(
      (fresh) => {
        if (fresh.cert === served) return;
        server.setSecureContext({ cert: fresh.cert, key: fresh.key, minVersion: 'TLSv1.2' });
        served = fresh.cert;
      },
      (err: unknown) => o.log.error({ err }, 'could not renew the listener’s certificate'),
    );
  });
  const port = (server.address() as { port: number }).port;
  const h = o.at.host === '0.0.0.0' || o.at.host === '::' ? '127.0.0.1' : o.at.host;
  return {
    url: `https://${h.includes(':') ? `[${h}]` : h}:${port}`,
    async close() {
      recheck();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
