// daemon/serving-wiring: builds the serving plane — gateway (data plane), scheduler, and the API's
// ServingPort — around an InstancePort, and owns their start/stop order:
//   start: store → gateway listens → scheduler re-adopts instances and starts ticking
//   stop:  scheduler stops (instances keep running for the next daemon) → gateway closes
import type { Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { SkiffError } from '../core/errors.ts';
import type { Db } from '../store/sqlite.ts';
import { ServingStore } from '../store/serving-store.ts';
import { Gateway } from '../gateway/gateway.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { InstancePort } from '../scheduler/ports.ts';
import { netProbes, promScrape } from '../scheduler/probes.ts';
import { ColdStartStats } from '../scheduler/cold-start-stats.ts';
import { desiredStateFromStore, histogramKeepAlives, kpaScalers, routingFromGateway } from './serving-adapters.ts';
import { ServingService } from './serving-service.ts';

/** The instance driver as the whole serving plane needs it: the scheduler's port plus deploy-time
 *  image preparation and log reading. */
export interface ServingInstances extends InstancePort {
  /** unpacks the layers of a pinned image (`repo@sha256:…`) ahead of its first request */
  prepare(pinned: string): Promise<{ total: number; unpacked: number }>;
  /** captured log lines of one instance, oldest first */
  logs(instanceId: string, tail?: number): Promise<string[]>;
}

export interface ServingPlane {
  service: ServingService;
  gatewayAddress: { host: string; port: number };
  /** per-revision cold-start breakdowns (for metrics) */
  coldStarts: ColdStartStats;
  stop(): Promise<void>;
}

export async function startServing(deps: {
  settings: Settings;
  db: Db;
  clock: Clock;
  log: Logger;
  instances: ServingInstances;
  resolveImage(ref: string): Promise<string>;
}): Promise<ServingPlane> {
  const { settings, clock, log } = deps;
  const store = new ServingStore(deps.db);
  let scheduler: Scheduler | undefined;
  const coldStarts = new ColdStartStats(log.child({ component: 'cold-start' }));
  const gateway = new Gateway({ requestCapacity: (rev) => scheduler?.requestCapacity(rev) }, log.child({ component: 'gateway' }), {
    onColdStart: (rev, waitedMs, firstByteMs) => coldStarts.firstByte(rev, waitedMs, firstByteMs),
    fastPath: settings.gatewayFastPath,
  });
  let gatewayAddress: { host: string; port: number };
  try {
    gatewayAddress = await gateway.listen(settings.gateway.host, settings.gateway.port);
  } catch (err) {
    throw new SkiffError('CONFIG_INVALID', `cannot listen on gateway ${settings.gateway.host}:${settings.gateway.port}: ${(err as Error).message}`, { cause: err });
  }
  scheduler = new Scheduler({
    instances: deps.instances,
    probes: netProbes,
    scrape: promScrape,
    routing: routingFromGateway(gateway, settings.domain),
    desired: desiredStateFromStore(store, clock),
    scalers: kpaScalers,
    keepAlive: histogramKeepAlives(settings.keepAlive),
    clock,
    log: log.child({ component: 'scheduler' }),
    coldStart: settings.coldStart,
    coldStarts,
  });
  await scheduler.start();
  const publicHost = settings.gateway.host === '0.0.0.0' || settings.gateway.host === '::' ? 'localhost' : settings.gateway.host;
  const service = new ServingService({
    store,
    scheduler,
    clock,
    resolveImage: deps.resolveImage,
    prepareImage: (pinned) => deps.instances.prepare(pinned),
    instanceLogs: (id, tail) => deps.instances.logs(id, tail),
    gateway: { domain: settings.domain, publicHost, port: gatewayAddress.port },
  });
  return {
    service,
    gatewayAddress,
    coldStarts,
    stop: async () => {
      await scheduler!.stop();
      await gateway.close();
    },
  };
}
