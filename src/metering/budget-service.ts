// metering/budget-service: projects' monthly budgets — what the API's budget routes call (set, show,
// remove) and the evaluation the daemon runs every budgets.intervalSeconds (daemon/budget-wiring.ts):
//   store.budgets + usage rows + price sheet ─► decideBudget (budget.ts, pure) ─► tell (event, log,
//   webhook) once per threshold and month; enforce through the BudgetEnforcer (the quota ledger's
//   instance cap: cap = the instances held when the budget was spent, stop = 0 and drained)
// A raised (or removed) budget, or a new month, lifts the cap at once. Which project a caller may see
// or change is decided by the route (api/budget-routes.ts), never here.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { BUDGET_ACTIONS, type BudgetAction, type BudgetRecord, type BudgetsRepository, type BudgetStatus } from '../core/budgets.ts';
import type { PriceSheet, UsageRepository } from '../core/usage.ts';
import { buildInvoice } from './billing.ts';
import { decideBudget, monthBounds, money, parseAmount, parseThreshold, sortThresholds, type BudgetDecision } from './budget.ts';

/** the current rate of spend is the spend over this last stretch of time */
export const RATE_WINDOW_MS = 15 * 60_000;

/** What a spent budget does to a project's instances (the quota ledger, plugged in by the daemon). */
export interface BudgetEnforcer {
  /** instances the project holds now */
  held(project: string): number;
  /** caps the project's instances (0: none runs; the running ones are drained); undefined lifts it */
  limit(project: string, cap: { instances: number; message: string } | undefined): void;
}

/** A threshold crossed: what the log, the event and the webhook are told. */
export interface BudgetNotice {
  project: string;
  month: string;
  currency: string;
  budget: string;
  spent: string;
  forecast: string;
  /** percent of the budget ("80"; "100": the budget is spent) */
  threshold: string;
  action: BudgetAction;
  webhook?: string;
}

export interface BudgetInput {
  monthly: string;
  soft?: string[];
  action?: string;
  webhook?: string;
}

export class BudgetService {
  /** what is enforced per project now (in memory: evaluated again at each start) */
  private readonly enforced = new Map<string, { kind: 'cap' | 'stop'; instances: number }>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly d: {
      budgets: BudgetsRepository;
      rows: Pick<UsageRepository, 'minutes'>;
      prices: PriceSheet;
      clock: Clock;
      log: Logger;
      enforcer: BudgetEnforcer;
      /** whether the project exists (a budget is set only on one that does) */
      projectExists: (project: string) => Promise<boolean>;
      /** tells a crossed threshold (event, webhook); must not throw or wait for the webhook */
      notify: (n: BudgetNotice) => void;
      /** writes what the meter holds before a read; absent: metering is off */
      flush?: () => Promise<void>;
    },
  ) {}

  async set(project: string, input: BudgetInput): Promise<BudgetStatus> {
    const now = this.d.clock.now();
    let monthly: string;
    let soft: string[];
    try {
      monthly = parseAmount(input.monthly);
      soft = sortThresholds((input.soft ?? []).map(parseThreshold));
    } catch (err) {
      throw new SkiffError('BAD_REQUEST', `budget: ${(err as Error).message}`);
    }
    const action = (input.action ?? 'notify') as BudgetAction;
    if (!BUDGET_ACTIONS.includes(action)) throw new SkiffError('BAD_REQUEST', `action: expected notify, cap or stop, got ${JSON.stringify(input.action)}`);
    if (input.webhook !== undefined && !/^https?:\/\/[^\s]+$/.test(input.webhook)) throw new SkiffError('BAD_REQUEST', `webhook: expected an http(s) URL, got ${JSON.stringify(input.webhook)}`);
    if (!(await this.d.projectExists(project))) throw new SkiffError('NOT_FOUND', `no project ${JSON.stringify(project)}: skiff project ls lists them`);
    const old = await this.d.budgets.getBudget(project);
    await this.flush();
    // a new budget: its thresholds are told again when crossed
    const record: BudgetRecord = { project, monthly, soft, action, ...(input.webhook !== undefined ? { webhook: input.webhook } : {}), notified: [], createdAt: old?.createdAt ?? now, updatedAt: now };
    await this.d.budgets.putBudget(record);
    // raised, lowered or changed action: enforced (or lifted) now, not at the next evaluation
    return this.apply(record, await this.decide(record));
  }

  async get(project: string): Promise<BudgetStatus> {
    const b = await this.d.budgets.getBudget(project);
    if (!b && !(await this.d.projectExists(project))) throw new SkiffError('NOT_FOUND', `no project named ${project}`);
    if (!b) throw new SkiffError('NOT_FOUND', `project ${project} has no budget (skiff budget set --project ${project} --monthly 50.00)`);
    await this.flush();
    return this.status(b, await this.decide(b));
  }

  /** Every budget, or those `visible` keeps. */
  async list(visible: (project: string) => boolean = () => true): Promise<BudgetStatus[]> {
    const out: BudgetStatus[] = [];
    await this.flush();
    for (const b of await this.d.budgets.listBudgets()) if (visible(b.project)) out.push(this.status(b, await this.decide(b)));
    return out;
  }

  async remove(project: string): Promise<void> {
    if (!(await this.d.budgets.deleteBudget(project))) throw new SkiffError('NOT_FOUND', `project ${project} has no budget`);
    this.lift(project);
  }

  /** The project is gone: its budget goes with it (whatever it enforced is lifted). */
  async forget(project: string): Promise<void> {
    await this.d.budgets.deleteBudget(project);
    this.lift(project);
  }

  /** One evaluation of every budget (the daemon's loop); one at a time. */
  evaluate(): Promise<void> {
    return (this.running ??= this.evaluateAll().finally(() => (this.running = undefined)));
  }

  private async evaluateAll(): Promise<void> {
    await this.flush();
    const budgets = await this.d.budgets.listBudgets();
    const have = new Set(budgets.map((b) => b.project));
    for (const project of [...this.enforced.keys()]) if (!have.has(project)) this.lift(project);
    for (const b of budgets) {
      try {
        await this.apply(b, await this.decide(b), true);
      } catch (err) {
        this.d.log.error({ err, project: b.project }, 'budgets: evaluation failed');
      }
    }
  }

  /** The meter's last seconds written, so spend read now includes them (a failure is only logged). */
  private async flush(): Promise<void> {
    await this.d.flush?.().catch((err: unknown) => this.d.log.warn({ err }, 'budgets: metering flush failed'));
  }

  /** Spend this month and over the last RATE_WINDOW_MS, decided. */
  private async decide(b: BudgetRecord): Promise<BudgetDecision> {
    const now = this.d.clock.now();
    const { from } = monthBounds(now);
    const rows = await this.d.rows.minutes({ from, to: now + 60_000, tenant: b.project });
    const windowFrom = Math.max(from, Math.floor((now - RATE_WINDOW_MS) / 60_000) * 60_000);
    const month = new Date(now).toISOString().slice(0, 7);
    const spent = buildInvoice(month, b.project, rows, this.d.prices).subtotal;
    const recent = buildInvoice(month, b.project, rows.filter((r) => r.minute >= windowFrom), this.d.prices).subtotal;
    return decideBudget(b, { spent, recent: { spent: recent, windowMs: Math.max(0, now - windowFrom) }, now });
  }

  /** Enforces the decision; with `tell`, tells the thresholds crossed (once per month: recorded first). */
  private async apply(b: BudgetRecord, d: BudgetDecision, tell = false): Promise<BudgetStatus> {
    const current = this.enforced.get(b.project);
    if (d.enforce === 'none') this.lift(b.project);
    else if (current?.kind !== d.enforce) {
      // cap: the instances held when the budget was spent; stop: none
      const instances = d.enforce === 'stop' ? 0 : this.d.enforcer.held(b.project);
      this.enforced.set(b.project, { kind: d.enforce, instances });
      this.d.enforcer.limit(b.project, { instances, message: this.refusal(b, d, instances) });
      this.d.log.warn({ project: b.project, budget: b.monthly, spent: d.spent, action: d.enforce, instances }, d.enforce === 'stop' ? 'budget spent: the project is stopped' : 'budget spent: the project is capped');
    }
    if (tell && d.tell.length > 0 && (await this.d.budgets.setNotified(b.project, d.month, d.notified))) {
      for (const threshold of d.tell) {
        this.d.notify({ project: b.project, month: d.month, currency: this.d.prices.currency, budget: b.monthly, spent: money(d.spent), forecast: money(d.forecast), threshold, action: b.action, ...(b.webhook !== undefined ? { webhook: b.webhook } : {}) });
      }
    }
    return this.status(b, d);
  }

  private lift(project: string): void {
    if (!this.enforced.delete(project)) return;
    this.d.enforcer.limit(project, undefined);
    this.d.log.info({ project }, 'budget: the cap is lifted');
  }

  private refusal(b: BudgetRecord, d: BudgetDecision, instances: number): string {
    const c = this.d.prices.currency;
    const spent = `project ${b.project} has spent its monthly budget (${money(d.spent)} of ${money(b.monthly)} ${c} in ${d.month})`;
    const until = 'until the budget is raised (skiff budget set) or the month ends';
    return instances === 0 ? `${spent}: its services are stopped ${until}` : `${spent}: no more than ${instances} instance(s) ${until}`;
  }

  private status(b: BudgetRecord, d: BudgetDecision): BudgetStatus {
    const e = this.enforced.get(b.project);
    return {
      project: b.project,
      month: d.month,
      currency: this.d.prices.currency,
      monthly: b.monthly,
      soft: b.soft,
      action: b.action,
      ...(b.webhook !== undefined ? { webhook: b.webhook } : {}),
      spent: money(d.spent),
      ratePerHour: money(d.ratePerHour, 4),
      forecast: money(d.forecast),
      state: d.state,
      enforced: e?.kind ?? 'none',
      ...(e?.kind === 'cap' ? { cappedAt: e.instances } : {}),
    };
  }
}
