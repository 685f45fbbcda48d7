// daemon/internal-calls: service-to-service calls by name (core/internal-network.ts). Each time the
// routes change, every service gets its names in its tenant's instances — NAME and NAME.internal —
// leading to the gateway's internal port (HTTP services: port 80) or to its own TCP proxy (TCP
// services: their own port). Nothing is set up until there is a service: a daemon that only serves
// the registry makes no network.
import type { Logger } from '../core/logger.ts';
import type { InternalEndpoint, InternalNetwork } from '../core/internal-network.ts';
import type { ServiceRecord } from '../core/service.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { TcpProxy } from '../gateway/tcp-proxy.ts';

/** the port an HTTP service answers on for its tenant's instances, as for any web server */
export const INTERNAL_HTTP_PORT = 80;

export class InternalCalls {
  private readonly tcp: TcpProxy;
  private httpPort: number | undefined;
  private latest: ServiceRecord[] | undefined;
  private pumping: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly gateway: Gateway,
    private readonly network: InternalNetwork,
    private readonly log: Logger,
  ) {
    this.tcp = new TcpProxy((rev) => gateway.pool(rev), (a) => network.namespaceOf(a), log);
  }

  /** The services as routed now (the scheduler's push); applied in the background, latest wins. */
  update(services: ServiceRecord[]): void {
    this.latest = services;
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  /** Resolves once what was last given is applied (tests, and a deploy that waits for its names). */
  async settled(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    while (this.latest && !this.closed) {
      const services = this.latest;
      this.latest = undefined;
      try {
        await this.apply(services);
      } catch (err) {
        this.log.error({ err }, 'internal names: cannot apply the services\' names (calls by name may fail)');
      }
    }
  }

  private async apply(services: ServiceRecord[]): Promise<void> {
    if (services.length === 0 && this.httpPort === undefined) return;
    const host = await this.network.listenAddress();
    this.httpPort ??= (await this.gateway.listenInternal(host, 0, (a) => this.network.namespaceOf(a))).port;
    const tcp = services.filter((s) => s.spec.protocol === 'tcp');
    const tcpPorts = await this.tcp.set(host, tcp.map((s) => ({ service: s.name, tenant: s.tenant, targets: s.traffic.filter((t) => t.percent > 0) })));
    const endpoints: InternalEndpoint[] = services.map((s) =>
      s.spec.protocol === 'tcp'
        ? { namespace: s.tenant, names: [s.name, `${s.name}.internal`], port: s.spec.port, proxyPort: tcpPorts.get(s.name)! }
        : { namespace: s.tenant, names: [s.name, `${s.name}.internal`], port: INTERNAL_HTTP_PORT, proxyPort: this.httpPort! },
    );
    await this.network.publish(endpoints);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pumping?.catch(() => undefined);
    this.tcp.close();
  }
}
