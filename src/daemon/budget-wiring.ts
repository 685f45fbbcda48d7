// daemon/budget-wiring: projects' budgets (metering/budget-service.ts) plugged into what they read and
// act on:
//   store.budgets + store.usage + price sheet + the meter's flush ─► BudgetService.evaluate()
//   every budgets.intervalSeconds ─► quota ledger capInstances (cap; stop: 0, the scheduler drains)
//                                 └► notices: daemon log, service events, webhook (budget-notify.ts)
// Started after metering; stopped before it (stops run in reverse).
import type { Settings } from '../config/settings.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { QuotaLedger } from '../core/quota.ts';
import { BudgetService } from '../metering/budget-service.ts';
import { budgetNotifier } from '../metering/budget-notify.ts';
import type { Store } from '../store/repositories.ts';
import type { MeteringPlane } from './metering-wiring.ts';

export interface BudgetPlane {
  service: BudgetService;
  stop(): Promise<void>;
}

export function startBudgets(d: { settings: Settings; store: Store; metering: MeteringPlane; quotas: QuotaLedger; clock: Clock; log: Logger }): BudgetPlane {
  const log = d.log.child({ component: 'budgets' });
  const meter = d.metering.meter;
  const service = new BudgetService({
    budgets: d.store.budgets,
    rows: d.store.usage,
    prices: d.settings.metering.prices,
    clock: d.clock,
    log,
    projectExists: async (project) => (await d.store.projects.getProject(project)) !== undefined,
    enforcer: { held: (project) => d.quotas.usage(project).instances, limit: (project, cap) => d.quotas.capInstances(project, cap) },
    notify: budgetNotifier({
      log,
      clock: d.clock,
      event: async (project, message) => {
        for (const s of await d.store.serving.listServices()) if (s.tenant === project) await d.store.serving.addEvent(s.name, null, 'budget', message, d.clock.now());
      },
    }),
    ...(meter ? { flush: () => meter.sample().then(() => meter.flush()) } : {}),
  });
  let last: Promise<void> = Promise.resolve();
  const evaluate = () => void (last = service.evaluate().catch((err: unknown) => log.error({ err }, 'budgets: evaluation failed')));
  evaluate();
  const cancel = d.clock.every(d.settings.budgets.intervalSeconds * 1000, evaluate);
  return {
    service,
    stop: async () => {
      cancel();
      await last;
    },
  };
}
