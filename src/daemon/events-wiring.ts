// daemon/events-wiring: builds the event side — the triggers service, the invocation worker, the
// gateway's async hook — on the store, the serving plane, the gateway's own listener and the job
// service (cron triggers with --job start executions), and owns its start/stop order:
//   start: worker requeues what a killed daemon left running → triggers load, cron plans (missed fires);
//          the job service has started before (the executions it resumed are a job trigger's to watch)
//   stop:  cron and worker stop taking work (in-flight deliveries stay running in the store and are
//          queued again at the next start) → counters flushed
import type { Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../store/repositories.ts';
import type { ServingPlane } from './serving-wiring.ts';
import { TriggersService } from '../triggers/service.ts';
import { InvocationWorker, invocationView } from '../triggers/invocation-worker.ts';
import type { ServicesPort } from '../triggers/ports.ts';
import { callbackPoster, gatewayInvoker, jobsPort } from './events-adapters.ts';
import type { JobService } from '../serving/jobs.ts';

export interface EventsPlane {
  service: TriggersService;
  stop(): Promise<void>;
}

export async function startEvents(deps: { settings: Settings; store: Pick<Store, 'events' | 'serving' | 'jobs'>; serving: ServingPlane; jobs: JobService; clock: Clock; log: Logger }): Promise<EventsPlane> {
  const { settings, store, serving, clock } = deps;
  const log = deps.log.child({ component: 'events' });
  const invoker = gatewayInvoker(serving.gatewayAddress, settings.domain);
  const services: ServicesPort = {
    tenantOf: async (name) => (await store.serving.getService(name))?.tenant,
    prewarm: (name, untilMs) => {
      if (!settings.events.cronPrewarm) return;
      void serving.service.prewarm(name, { instances: 1, forMs: Math.max(1000, untilMs - clock.now()) }).catch((err: unknown) => log.warn({ err: (err as Error).message, service: name }, 'pre-warm ahead of a cron fire failed'));
    },
    capacity: async (name) => {
      const svc = await store.serving.getService(name);
      if (!svc) return 64;
      return Math.min(256, Math.max(1, (svc.spec.scaling.concurrency || 100) * svc.scale.max));
    },
    // the revisions of a service are named <service>-<5 digits> (core/names.ts revisionName)
    coldStartMs: (name) => serving.coldStarts.quantile((rev) => rev.length === name.length + 6 && rev.startsWith(`${name}-`) && /^\d{5}$/.test(rev.slice(-5)), 'ready', 0.9),
  };
  const triggers = new TriggersService({ records: store.events, services, invoker, jobs: jobsPort(deps.jobs, store.jobs), clock, log });
  const worker = new InvocationWorker({ records: store.events, invoker, callbacks: callbackPoster(settings.events.callbackNetworks), clock, log, onSettled: (inv, s) => triggers.settled(inv, s) });
  triggers.attach(worker);
  serving.gateway.setAsync({
    accept: (req, opts) => triggers.accept(req, opts),
    status: async (id) => {
      const inv = await store.events.getInvocation(id);
      return inv ? { service: inv.service, view: invocationView(inv) } : undefined;
    },
  });
  await worker.start();
  await triggers.start();
  serving.setBacklog(triggers);
  return {
    service: triggers,
    stop: async () => {
      worker.stop();
      await triggers.stop();
      invoker.close();
    },
  };
}
