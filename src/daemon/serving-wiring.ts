// daemon/serving-wiring: builds the serving plane — gateway (data plane), scheduler, and serving/'s
// ServingService — around an instance driver, and owns their start/stop order:
//   start: scheduler loads routes → gateway listens → scheduler re-adopts instances and starts ticking
//          (orphans are removed after that, in the background)
//   stop:  scheduler stops (instances keep running for the next daemon) → gateway closes
import { resolveDevices } from '../runtime/devices/devices.ts';
import { parseHostPort, type Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import type { ServingRepository } from '../store/repositories.ts';
import type { InstanceDriver } from '../core/instance.ts';
import { Gateway } from '../gateway/gateway.ts';
import { Observer } from '../gateway/observe.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { BacklogPort } from '../scheduler/ports.ts';
import { netProbes, promScrape } from '../scheduler/probes.ts';
import { ColdStartStats } from '../scheduler/cold-start-stats.ts';
import type { DomainRefsPort, ImagePort, InstanceUsagePort, TriggerRefsPort, VolumeRulesPort } from '../serving/ports.ts';
import type { DesiredStatePort } from '../scheduler/ports.ts';
import { ServingService } from '../serving/service.ts';
import { ProjectQuotaGuard } from '../serving/quota.ts';
import type { QuotaLedger } from '../core/quota.ts';
import type { ProjectsRepository } from '../core/repositories.ts';
import type { SecretsService } from '../serving/secrets.ts';
import { withSecrets } from '../serving/secret-injection.ts';
import { InternalCalls } from './internal-calls.ts';
import { roundUpBusy } from '../metering/billing.ts';
import { desiredStateFromStore, histogramKeepAlives, kpaScalers, routingFromGateway } from './serving-adapters.ts';

export interface ServingPlane {
  service: ServingService;
  gatewayAddress: { host: string; port: number };
  /** the gateway's TLS port (custom domains), when settings.gatewayTls names one */
  gatewayTlsAddress: { host: string; port: number } | undefined;
  /** per-revision cold-start breakdowns (for metrics) */
  coldStarts: ColdStartStats;
  /** the data plane (events plug their async invocations into it) */
  gateway: Gateway;
  /** per revision: service, desired and ready instances, panic, instances by phase (for metrics) */
  revisionMetrics(): ReturnType<Scheduler['metrics']>;
  /** every instance with a process, for the metering (daemon/metering-wiring.ts) */
  meteredInstances(): ReturnType<Scheduler['meteredInstances']>;
  /** the event side's backlog per service, an autoscaler input (events start after serving) */
  setBacklog(port: BacklogPort): void;
  /** each instance's recent CPU and memory for the service views (the metering starts after serving) */
  setInstanceUsage(port: InstanceUsagePort): void;
  stop(): Promise<void>;
  /** `skiff down`: the gateway takes no new connection, every instance finishes its requests and
   *  stops, then stop(). Resolves with how many instances there were. */
  drainAndStop(): Promise<number>;
}

export async function startServing(deps: {
  settings: Settings;
  records: ServingRepository;
  clock: Clock;
  log: Logger;
  driver: InstanceDriver;
  images: ImagePort;
  triggers?: TriggerRefsPort;
  /** the custom domains routed to a service (a service is not removed under them) */
  domains?: DomainRefsPort;
  /** pins a deploy's secrets; opens them for each instance the scheduler creates */
  secrets?: SecretsService;
  /** the volume rules a deploy keeps (serving/volumes.ts) */
  volumes?: VolumeRulesPort;
  /** projects' quotas: what each project's instances hold (the scheduler reserves there before each
   *  start) and the stored quotas a deploy's min instances are checked against */
  quotas?: QuotaLedger;
  projects?: Pick<ProjectsRepository, 'getProject'>;
  /** told the service whose instances or events changed, once the scheduler's write of it is stored
   *  (the dashboard's change stream reads the service again then) */
  onServiceChange?: (service: string) => void;
}): Promise<ServingPlane> {
  const { settings, clock, log } = deps;
  let scheduler: Scheduler | undefined;
  let internal: InternalCalls | undefined;
  const coldStarts = new ColdStartStats(log.child({ component: 'cold-start' }));
  // tracing and the access log: none of it exists per request when both are off (the default)
  const observer = Observer.create({
    tracing: settings.tracing,
    ...(settings.accessLog ? { accessLog: log.child({ component: 'access' }) } : {}),
  });
  const gateway = new Gateway({ requestCapacity: (rev) => scheduler?.requestCapacity(rev) }, log.child({ component: 'gateway' }), {
    onColdStart: (rev, waitedMs, firstByteMs) => coldStarts.firstByte(rev, waitedMs, firstByteMs),
    fastPath: settings.gatewayFastPath,
    limits: settings.gatewayLimits,
    trustedProxies: settings.trustedProxies,
    ...(observer ? { observer } : {}),
    // request-based billing's 100 ms rounding, applied as each busy spell ends (docs/metering.md)
    ...(settings.metering.enabled ? { roundBusy: roundUpBusy } : {}),
  });
  if (deps.driver.internal) internal = new InternalCalls(gateway, deps.driver.internal, log.child({ component: 'internal-calls' }));
  scheduler = new Scheduler({
    // the scheduler's instances get their revision's pinned secrets opened at create (serving/secret-injection.ts)
    instances: deps.secrets ? withSecrets(deps.driver, secretResolver(deps.records, deps.secrets)) : deps.driver,
    probes: netProbes,
    scrape: promScrape,
    routing: routingFromGateway(gateway, settings.domain, { update: (services) => internal?.update(services) }),
    desired: deps.onServiceChange ? announcingChanges(desiredStateFromStore(deps.records, clock), deps.onServiceChange) : desiredStateFromStore(deps.records, clock),
    scalers: kpaScalers,
    keepAlive: histogramKeepAlives(settings.keepAlive),
    clock,
    log: log.child({ component: 'scheduler' }),
    coldStart: settings.coldStart,
    coldStarts,
    ...(deps.quotas ? { quotas: deps.quotas } : {}),
  });
  // Routes before the first connection: a restarted daemon never answers 404 for a service it has
  // (requests for a revision whose instances are still being re-adopted wait as for a cold start).
  await scheduler.loadRoutes();
  let gatewayAddress: { host: string; port: number };
  try {
    gatewayAddress = await gateway.listen(settings.gateway.host, settings.gateway.port);
  } catch (err) {
    throw new SkiffError('CONFIG_INVALID', `cannot listen on gateway ${settings.gateway.host}:${settings.gateway.port}: ${(err as Error).message}`, { cause: err });
  }
  let gatewayTlsAddress: { host: string; port: number } | undefined;
  try {
    if (settings.gatewayTls) {
      const tlsAt = parseHostPort(settings.gatewayTls, 'gatewayTls');
      gatewayTlsAddress = await gateway.listenTls(tlsAt.host, tlsAt.port).catch((err: Error) => {
        throw new SkiffError('CONFIG_INVALID', `cannot listen on gateway TLS ${settings.gatewayTls}: ${err.message}`, { cause: err });
      });
    }
    await scheduler.start();
  } catch (err) {
    await internal?.close();
    await gateway.close();
    await observer?.shutdown();
    throw err;
  }
  let instanceUsage: InstanceUsagePort | undefined;
  const publicHost = settings.gateway.host === '0.0.0.0' || settings.gateway.host === '::' ? 'localhost' : settings.gateway.host;
  const service = new ServingService({
    records: deps.records,
    scheduler,
    images: deps.images,
    instanceLogs: deps.driver,
    clock,
    gateway: { domain: settings.domain, publicHost, port: gatewayAddress.port },
    ...(deps.triggers ? { triggers: deps.triggers } : {}),
    ...(deps.domains ? { domains: deps.domains } : {}),
    ...(deps.volumes ? { volumes: deps.volumes } : {}),
    ...(deps.secrets ? { secrets: deps.secrets } : {}),
    // the rules the runc driver applies again at each create (runtime/devices/devices.ts)
    ...(deps.projects ? { quotas: new ProjectQuotaGuard({ quota: async (p) => (await deps.projects!.getProject(p))?.quota }, deps.records) } : {}),
    instanceUsage: { of: (id) => instanceUsage?.of(id) },
    devices: { assertDevices: async (spec) => void (await resolveDevices(spec.devices ?? [], spec.gpus ?? 0, { allowList: settings.runtime.deviceAllowList, cdiDirs: settings.runtime.cdiSpecDirs })) },
  });
  return {
    service,
    gatewayAddress,
    gatewayTlsAddress,
    coldStarts,
    gateway,
    revisionMetrics: () => scheduler!.metrics(),
    meteredInstances: () => scheduler!.meteredInstances(),
    setBacklog: (port) => scheduler!.setBacklog(port),
    setInstanceUsage: (port) => void (instanceUsage = port),
    stop: async () => {
      await scheduler!.stop();
      await internal?.close();
      await gateway.close();
      await observer?.shutdown();
    },
    drainAndStop: async () => {
      gateway.stopAccepting();
      const instances = await scheduler!.drainAll();
      await internal?.close();
      await gateway.close();
      await observer?.shutdown();
      return instances;
    },
  };
}

/** The scheduler's store writes, each also announced once stored: an instance's phase (recorded at
 *  every change), its removal, a service event. */
function announcingChanges(port: DesiredStatePort, changed: (service: string) => void): DesiredStatePort {
  const serviceOf = new Map<string, string>();
  return {
    ...port,
    recordInstance: async (id, revision, service, state, address) => {
      serviceOf.set(id, service);
      await port.recordInstance(id, revision, service, state, address);
      changed(service);
    },
    forgetInstance: async (id) => {
      await port.forgetInstance(id);
      const service = serviceOf.get(id);
      serviceOf.delete(id);
      if (service !== undefined) changed(service);
    },
    event: async (service, revision, kind, message) => {
      await port.event(service, revision, kind, message);
      changed(service);
    },
  };
}

/** Secrets are their tenant's: an instance gets those of its service's tenant. */
function secretResolver(records: ServingRepository, secrets: SecretsService) {
  return {
    tenantOf: async (service: string) => {
      const svc = await records.getService(service);
      if (!svc) throw new SkiffError('NOT_FOUND', `no service named ${service}`);
      return svc.tenant;
    },
    material: secrets.material.bind(secrets),
  };
}
