// gateway/tcp-proxy: TCP services (`--protocol tcp`: a database, a cache, a broker inside an app),
// reached by the tenant's other services as NAME:PORT. One listener per service on the internal
// address; a connection from one of the tenant's instances takes a slot of a revision's pool — the
// same pools as HTTP, so a TCP service scales from zero on its first connection and its open
// connections count as its concurrency (it is not scaled to zero under them) — and is relayed, bytes
// as they are, to the instance the slot names until either side closes.
import net from 'node:net';
import type { Logger } from '../core/logger.ts';
import type { RevisionPool } from './pool.ts';
import type { RevisionTarget } from './ports.ts';
import { pickRevision } from './routing.ts';

export interface TcpService {
  service: string;
  tenant: string;
  targets: RevisionTarget[];
}

interface Listening extends TcpService {
  server: net.Server;
  port: number;
}

export class TcpProxy {
  private readonly listening = new Map<string, Listening>();
  private readonly open = new Set<net.Socket>();

  constructor(
    private readonly pools: (revision: string) => RevisionPool | undefined,
    private readonly callerOf: (address: string) => string | undefined,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /** Listens for each service (on `host`, a port of the kernel's choosing) and stops listening for
   *  the services no longer given; resolves with each service's port. */
  async set(host: string, services: TcpService[]): Promise<Map<string, number>> {
    const wanted = new Map(services.map((s) => [s.service, s]));
    for (const [name, l] of this.listening) {
      if (!wanted.has(name)) {
        l.server.close();
        this.listening.delete(name);
      }
    }
    for (const s of services) {
      const had = this.listening.get(s.service);
      if (had) {
        had.tenant = s.tenant;
        had.targets = s.targets;
        continue;
      }
      // half-open both ways: a client that shuts its side after sending (nc, a redis-cli pipe) still
      // gets everything the instance answers; the pipes carry each FIN across
      const server = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (client) => this.accept(s.service, client));
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
      });
      this.listening.set(s.service, { ...s, server, port });
    }
    return new Map([...this.listening].map(([name, l]) => [name, l.port]));
  }

  private accept(service: string, client: net.Socket): void {
    const l = this.listening.get(service);
    const caller = client.remoteAddress === undefined ? undefined : this.callerOf(client.remoteAddress);
    if (!l || caller !== l.tenant) return void client.destroy();
    const revision = pickRevision(l.targets, this.random() * 100);
    const pool = revision === undefined ? undefined : this.pools(revision);
    if (!pool) return void client.destroy();
    client.pause(); // what it sends waits for the instance
    this.open.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => this.open.delete(client));
    void Promise.resolve(pool.acquire()).then((got) => {
      if (!got.ok || client.destroyed) {
        if (got.ok) got.slot.release();
        return void client.destroy();
      }
      const { slot } = got;
      const upstream = net.connect({ host: slot.endpoint.host, port: slot.endpoint.port, noDelay: true, allowHalfOpen: true });
      this.open.add(upstream);
      let released = false;
      const end = () => {
        if (!released) {
          released = true;
          slot.release();
        }
        client.destroy();
        upstream.destroy();
        this.open.delete(upstream);
      };
      upstream.once('connect', () => {
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
      });
      upstream.on('error', (err) => {
        this.log.debug({ service, instance: slot.endpoint.id, err: err.message }, 'tcp: instance connection failed');
        end();
      });
      upstream.once('close', end);
      client.once('close', end);
    });
  }

  close(): void {
    for (const l of this.listening.values()) l.server.close();
    this.listening.clear();
    for (const s of this.open) s.destroy();
  }
}
