// core/budgets: a project's monthly budget (`skiff budget set`), its store port and the status the
// API answers with. Money is decimal text ("50.00"), never a float. Declared in core because the
// store implements the port, metering decides with it (metering/budget.ts) and api/cli show it.

/** What happens once the month's spend reaches the budget: only tell (notify), start no instance
 *  beyond those held then (cap), or stop every instance and answer 402 (stop). */
export type BudgetAction = 'notify' | 'cap' | 'stop';
export const BUDGET_ACTIONS: readonly BudgetAction[] = ['notify', 'cap', 'stop'];

export interface BudgetRecord {
  project: string;
  /** the monthly amount, decimal text in the price sheet's currency */
  monthly: string;
  /** soft thresholds in percent of `monthly`, decimal text ("80", "95.5"), ascending */
  soft: string[];
  action: BudgetAction;
  /** POSTed to (JSON) when a threshold is crossed or the budget is spent */
  webhook?: string;
  /** the month (YYYY-MM, UTC) `notified` belongs to */
  notifiedMonth?: string;
  /** thresholds already told this month ("80", …, and "100" for the budget spent) */
  notified: string[];
  createdAt: number;
  updatedAt: number;
}

export interface BudgetsRepository {
  /** Creates or replaces the project's budget (its notifications included). */
  putBudget(b: BudgetRecord): Promise<void>;
  getBudget(project: string): Promise<BudgetRecord | undefined>;
  listBudgets(): Promise<BudgetRecord[]>;
  /** Records the thresholds told in `month`; false when the project has no budget (any more). */
  setNotified(project: string, month: string, notified: string[]): Promise<boolean>;
  deleteBudget(project: string): Promise<boolean>;
}

/** ok: below every soft threshold; soft: one crossed; exhausted: the month's spend reached the budget. */
export type BudgetState = 'ok' | 'soft' | 'exhausted';

/** A budget as `skiff budget` shows it: amounts in the price sheet's currency, decimal text. */
export interface BudgetStatus {
  project: string;
  month: string;
  currency: string;
  monthly: string;
  soft: string[];
  action: BudgetAction;
  webhook?: string;
  /** spent so far this month (rounded to cents) */
  spent: string;
  /** the current rate of spend, per hour (over the last few minutes) */
  ratePerHour: string;
  /** spent + rate × the time left in the month (rounded to cents) */
  forecast: string;
  state: BudgetState;
  /** what is being enforced now: none, cap (no instance beyond `cappedAt`), stop (scaled to zero, 402) */
  enforced: 'none' | 'cap' | 'stop';
  cappedAt?: number;
}
