// gateway/instance-clients: the node:http path's keep-alive connections to instances, one undici Pool
// per published instance (measured 2.4x less CPU per request than node:http's Agent: forward.ts).
// A pool is closed once its instance stops being published — after the requests it carries finish —
// because a keep-alive socket left to a deleted network namespace receives no FIN or RST and would
// swallow the next request sent on it until the service's timeout, and the instance's address may
// come back for another instance. (The fast path's upstreams.ts does the same for its raw sockets.)
import { Pool, type Dispatcher } from 'undici';
import type { Endpoint } from './ports.ts';
import { connectLenient } from './lenient-socket.ts';

/** timeouts are the gateway's own (per revision, forward.ts); bare-LF response heads are accepted as
 *  on the fast path (lenient-socket.ts) */
const POOL_OPTIONS = { headersTimeout: 0, bodyTimeout: 0, connect: connectLenient as unknown as Pool.Options['connect'] } as const;

export type InstanceDispatcher = Pick<Dispatcher, 'dispatch'>;

export class InstanceClients {
  private readonly pools = new Map<string, { origin: string; pool: Pool }>();

  /** `published` says whether an endpoint is published now (the fast path's upstream pool keeps that list) */
  constructor(private readonly published: (endpoint: Endpoint) => boolean) {}

  /** Where to send a request for `endpoint`: its instance's pool; for an instance unpublished in the
   *  meantime (a race with a drain), a pool of its own that closes after this one request. */
  for(endpoint: Endpoint): InstanceDispatcher {
    const origin = `http://${endpoint.host}:${endpoint.port}`;
    const known = this.pools.get(endpoint.id);
    if (known?.origin === origin) return known.pool;
    if (!this.published(endpoint)) {
      const pool = new Pool(origin, POOL_OPTIONS);
      return {
        dispatch(options, handler) {
          const accepted = pool.dispatch(options, handler);
          void pool.close(); // graceful: the request just queued completes first
          return accepted;
        },
      };
    }
    if (known) void known.pool.close();
    const pool = new Pool(origin, POOL_OPTIONS);
    this.pools.set(endpoint.id, { origin, pool });
    return pool;
  }

  /** These instances are no longer published: their pools close once their requests are done. */
  forget(endpoints: Endpoint[]): void {
    for (const e of endpoints) {
      void this.pools.get(e.id)?.pool.close();
      this.pools.delete(e.id);
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy()));
  }
}
