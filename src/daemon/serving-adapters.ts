// daemon/serving-adapters: plugs the store and the gateway into the scheduler's ports.
import type { Clock } from '../core/clock.ts';
import type { ServingStore } from '../store/serving-store.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { Settings } from '../config/settings.ts';
import type { DesiredStatePort, KeepAliveFactory, RoutingPort, ScalerFactory } from '../scheduler/ports.ts';
import { KpaScaler, scalingSettingsOf } from '../autoscaler/kpa.ts';
import { DEFAULT_KEEPALIVE } from '../autoscaler/keepalive.ts';
import { ServiceKeepAlive } from '../autoscaler/keepalive-decision.ts';

export const kpaScalers: ScalerFactory = (revision) => new KpaScaler(scalingSettingsOf(revision.spec.scaling));

/** The hybrid histogram policy per service, with the node's histogram settings (the rest: the paper's). */
export function histogramKeepAlives(s: Settings['keepAlive']): KeepAliveFactory {
  return () => new ServiceKeepAlive({ ...DEFAULT_KEEPALIVE, ...s });
}

export function desiredStateFromStore(store: ServingStore, clock: Clock): DesiredStatePort {
  return {
    services: () => store.listServices(),
    // `skiff scale` changes the service's bounds without a new revision; they apply to every revision.
    revision: (name) => {
      const rev = store.getRevision(name);
      const svc = rev && store.getService(rev.service);
      if (!rev || !svc) return rev;
      const { minScale, maxScale } = svc.spec.scaling;
      return { ...rev, spec: { ...rev.spec, scaling: { ...rev.spec.scaling, minScale, maxScale } } };
    },
    recordInstance: (id, revision, service, state, address) =>
      store.putInstance({ id, revision, service, state, address: address ? `${address.host}:${address.port}` : null }, clock.now()),
    forgetInstance: (id) => store.deleteInstance(id),
    knownInstances: () => store.listInstances(),
    event: (service, revision, kind, message) => store.addEvent(service, revision, kind, message, clock.now()),
    keepAlives: () => store.listKeepAlive(),
    saveKeepAlive: (service, state) => store.putKeepAlive(service, state, clock.now()),
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
