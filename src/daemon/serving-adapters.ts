// daemon/serving-adapters: plugs the store, the gateway, the registry and the autoscaler into the
// ports the scheduler and serving/ declare.
import type { Clock } from '../core/clock.ts';
import { parseImageReference, serviceHost, taggedName } from '../core/names.ts';
import type { ScaleBounds, ServiceRecord } from '../core/service.ts';
import type { ServingRepository } from '../store/repositories.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { Settings } from '../config/settings.ts';
import { unknownRepository, type Registry } from '../registry/registry.ts';
import type { ProjectNames } from '../registry/ports.ts';
import { mayUseRepository } from '../registry/project-access.ts';
import type { InstanceDriver } from '../core/instance.ts';
import type { DesiredStatePort, KeepAliveFactory, RoutingPort, ScalerFactory } from '../scheduler/ports.ts';
import type { ImagePort } from '../serving/ports.ts';
import { KpaScaler, scalingSettingsOf } from '../autoscaler/kpa.ts';
import { DEFAULT_KEEP_ALIVE } from '../autoscaler/idle-histogram.ts';
import { ServiceKeepAlive } from '../autoscaler/keep-alive.ts';

/** A KPA per revision; new bounds of its service reach it as new settings, its windows kept. */
export const kpaScalers: ScalerFactory = (revision, scale) => {
  const settingsFor = (s: ScaleBounds) => scalingSettingsOf(revision.spec.scaling, s);
  const kpa = new KpaScaler(settingsFor(scale));
  return {
    record: (now, metric, requests) => kpa.record(now, metric, requests),
    poke: (now) => kpa.poke(now),
    decide: (now, ready) => kpa.decide(now, ready),
    update: (s) => kpa.update(settingsFor(s)),
  };
};

/** The hybrid histogram policy per service, with the node's histogram settings (the rest: the paper's). */
export function histogramKeepAlives(s: Settings['keepAlive']): KeepAliveFactory {
  return () => new ServiceKeepAlive({ ...DEFAULT_KEEP_ALIVE, ...s });
}

export function desiredStateFromStore(records: ServingRepository, clock: Clock): DesiredStatePort {
  return {
    services: () => records.listServices(),
    revision: (name) => records.getRevision(name),
    recordInstance: (id, revision, service, state, address) =>
      records.putInstance({ id, revision, service, state, address: address ? `${address.host}:${address.port}` : null }, clock.now()),
    forgetInstance: (id) => records.deleteInstance(id),
    knownInstances: () => records.listInstances(),
    event: (service, revision, kind, message) => records.addEvent(service, revision, kind, message, clock.now()),
    keepAlives: () => records.listKeepAlive(),
    saveKeepAlive: (service, state) => records.putKeepAlive(service, state, clock.now()),
  };
}

/** `internal`: told the routed services too, for their names inside instances (internal-calls.ts) */
export function routingFromGateway(gateway: Gateway, domain: string, internal?: { update(services: ServiceRecord[]): void }): RoutingPort {
  return {
    setRevision: (r) => gateway.setRevision(r.name, { concurrency: r.spec.scaling.concurrency, queueLimit: r.spec.queueLimit, timeoutMs: r.spec.timeoutMs }),
    removeRevision: (name) => gateway.removeRevision(name),
    setEndpoints: (revision, endpoints) => gateway.setEndpoints(revision, endpoints),
    setRoutes: (services) => {
      gateway.setRoutes(
        // a TCP service has no HTTP route: internal-calls.ts relays its connections
        services.filter((s) => s.spec.protocol !== 'tcp').flatMap((s) => {
          const scope = { tenant: s.tenant, ...(s.spec.ingress === 'internal' ? { internal: true } : {}) };
          return [
            { service: s.name, hosts: [serviceHost(s.name, domain)], targets: s.traffic.filter((t) => t.percent > 0), ...scope },
            // a tag is the address of one revision, whatever its share
            ...s.traffic.flatMap((t) => (t.tag === undefined ? [] : [{ service: s.name, name: taggedName(t.tag, s.name), hosts: [serviceHost(taggedName(t.tag, s.name), domain)], targets: [{ revision: t.revision, percent: 100 }], ...scope }])),
          ];
        }),
      );
      internal?.update(services);
    },
    sample: () => gateway.sample(),
    whenIdle: (revision, id) => gateway.pool(revision)?.whenIdle(id) ?? Promise.resolve(),
    activeOf: (revision, id) => gateway.pool(revision)?.activeOf(id) ?? 0,
    capacityFailed: (revision) => gateway.pool(revision)?.capacityFailed(),
    revisionFailed: (revision, cause, retryInMs, kind) => gateway.pool(revision)?.fail(cause, retryInMs, kind),
  };
}

/** Image references resolve in Skiff's own registry; the instance driver prepares what they pin. A
 *  project runs only its own repositories' images: another project's is missing (NAME_UNKNOWN, the
 *  registry's own error), as it is on /v2 (registry/project-access.ts). */
export function imagesFromRegistry(registry: Registry, driver: Pick<InstanceDriver, 'prepare'>, projects: ProjectNames): ImagePort {
  return {
    async resolve(reference, tenant) {
      const image = parseImageReference(reference);
      if (!mayUseRepository(tenant, image.repository, projects)) throw unknownRepository(image.repository);
      const manifest = await registry.resolveManifest(image.repository, image.reference);
      return { repository: image.repository, digest: manifest.digest };
    },
    prepare: (image) => driver.prepare(image),
  };
}
