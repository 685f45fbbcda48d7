// daemon/serving-adapters: plugs the store and the gateway into the scheduler's ports.
import type { Clock } from '../core/clock.ts';
import type { ServingStore } from '../store/serving-store.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { DesiredStatePort, RoutingPort } from '../scheduler/ports.ts';

export function desiredStateFromStore(store: ServingStore, clock: Clock): DesiredStatePort {
  return {
    services: () => store.listServices(),
    revision: (name) => store.getRevision(name),
    recordInstance: (id, revision, service, state, address) =>
      store.putInstance({ id, revision, service, state, address: address ? `${address.host}:${address.port}` : null }, clock.now()),
    forgetInstance: (id) => store.deleteInstance(id),
    knownInstances: () => store.listInstances(),
    event: (service, revision, kind, message) => store.addEvent(service, revision, kind, message, clock.now()),
  };
}

/** Host names of a service: NAME.<domain>. */
export function serviceHost(service: string, domain: string): string {
  return `${service}.${domain}`;
}

export function routingFromGateway(gateway: Gateway, domain: string): RoutingPort {
  return {
    setRevision: (r) =>
      gateway.setRevision(r.name, { containerConcurrency: r.spec.scaling.containerConcurrency, queueLimit: r.spec.queueLimit, timeoutMs: r.spec.timeoutMs }),
    removeRevision: (name) => gateway.removeRevision(name),
    setEndpoints: (revision, endpoints) => gateway.setEndpoints(revision, endpoints),
    setRoutes: (services) =>
      gateway.setRoutes(services.map((s) => ({ service: s.name, hosts: [serviceHost(s.name, domain)], targets: s.traffic }))),
    sample: () => gateway.sample(),
    idle: (revision, id) => gateway.pool(revision)?.idle(id) ?? true,
    capacityFailed: (revision) => gateway.pool(revision)?.capacityFailed(),
  };
}
