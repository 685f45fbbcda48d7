// metering/budget-notify: how a crossed budget threshold is told — a warn line in the daemon log, an
// event on each of the project's services (`skiff events`, the dashboard) and, when the budget names
// one, a webhook POST (JSON: project, month, currency, budget, spent, forecast, threshold, action)
// with a short timeout and a few retries. Never blocks the evaluation; a failure is logged.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { BudgetNotice } from './budget-service.ts';

export const WEBHOOK_TIMEOUT_MS = 5000;
/** waits before the 2nd, 3rd… attempt */
export const WEBHOOK_RETRIES_MS = [1000, 4000];

export function budgetNotifier(d: { log: Logger; clock: Clock; event: (project: string, message: string) => Promise<void> }): (n: BudgetNotice) => void {
  return (n) => {
    const spentAll = n.threshold === '100';
    const message = spentAll
      ? `budget spent: ${n.spent} of ${n.budget} ${n.currency} in ${n.month} (action ${n.action}; forecast ${n.forecast})`
      : `budget ${n.threshold}% reached: ${n.spent} of ${n.budget} ${n.currency} in ${n.month} (forecast ${n.forecast} by month end)`;
    d.log.warn({ project: n.project, threshold: n.threshold, spent: n.spent, budget: n.budget, forecast: n.forecast }, message);
    void d.event(n.project, message).catch((err: unknown) => d.log.warn({ err, project: n.project }, 'budget: could not write the event'));
    if (n.webhook) void postWebhook(n.webhook, n, d).catch(() => {});
  };
}

async function postWebhook(url: string, n: BudgetNotice, d: { log: Logger; clock: Clock }): Promise<void> {
  const { webhook: _url, ...rest } = n;
  const body = JSON.stringify({ type: n.threshold === '100' ? 'budget.spent' : 'budget.threshold', ...rest });
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'skiff-budget' }, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (attempt >= WEBHOOK_RETRIES_MS.length) {
        d.log.warn({ err, project: n.project, threshold: n.threshold }, `budget webhook failed after ${attempt + 1} attempts`);
        return;
      }
      await d.clock.sleep(WEBHOOK_RETRIES_MS[attempt]!);
    }
  }
}
