// core/internal-network: how an instance reaches the other services of its tenant by name (`http://api/`,
// `db:6379`) — through Skiff's own proxies on the host, never straight to another instance (instances
// stay isolated from each other; scale from zero keeps working because every call goes through the
// gateway's pools). The daemon owns the proxies; the instance driver owns the network, so it owns the
// names an instance resolves and the path from a name's address to a proxy.

/** One name (or several) a tenant's instances resolve, and where a connection to it goes. */
export interface InternalEndpoint {
  /** whose instances see it (a service's tenant) */
  namespace: string;
  /** host names, e.g. `api` and `api.internal` */
  names: string[];
  /** the port the caller dials: 80 for an HTTP service, the service's own port for a TCP one */
  port: number;
  /** the port of the Skiff proxy for it, on listenAddress() */
  proxyPort: number;
}

/** The instance driver's side (consumer-owned: the daemon's wiring calls it). */
export interface InternalNetwork {
  /** the host address instances can reach and Skiff's proxies listen on; the network exists after it */
  listenAddress(): Promise<string>;
  /** replaces every name and path with these (an endpoint absent here no longer resolves) */
  publish(endpoints: InternalEndpoint[]): Promise<void>;
  /** the namespace of the instance that has this address, if one does: who a proxy's caller is */
  namespaceOf(address: string): string | undefined;
}
