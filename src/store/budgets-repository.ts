// store/budgets-repository: projects' monthly budgets (core/budgets.ts) on either dialect. Amounts
// and thresholds stay decimal text; the thresholds and those told this month are JSON arrays.
import type { BudgetAction, BudgetRecord, BudgetsRepository } from '../core/budgets.ts';
import type { BudgetsTable, Db } from './database.ts';

function toBudget(r: BudgetsTable): BudgetRecord {
  return {
    project: r.project,
    monthly: r.monthly,
    soft: JSON.parse(r.soft) as string[],
    action: r.action as BudgetAction,
    ...(r.webhook !== null ? { webhook: r.webhook } : {}),
    ...(r.notified_month !== null ? { notifiedMonth: r.notified_month } : {}),
    notified: JSON.parse(r.notified) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class KyselyBudgetsRepository implements BudgetsRepository {
  constructor(private readonly db: Db) {}

  async putBudget(b: BudgetRecord): Promise<void> {
    const row = {
      monthly: b.monthly,
      soft: JSON.stringify(b.soft),
      action: b.action,
      webhook: b.webhook ?? null,
      notified_month: b.notifiedMonth ?? null,
      notified: JSON.stringify(b.notified),
      updated_at: b.updatedAt,
    };
    await this.db
      .insertInto('budgets')
      .values({ project: b.project, ...row, created_at: b.createdAt })
      .onConflict((oc) => oc.column('project').doUpdateSet(row))
      .execute();
  }

  async getBudget(project: string): Promise<BudgetRecord | undefined> {
    const r = await this.db.selectFrom('budgets').selectAll().where('project', '=', project).executeTakeFirst();
    return r ? toBudget(r) : undefined;
  }

  async listBudgets(): Promise<BudgetRecord[]> {
    return (await this.db.selectFrom('budgets').selectAll().orderBy('project').execute()).map(toBudget);
  }

  async setNotified(project: string, month: string, notified: string[]): Promise<boolean> {
    const r = await this.db.updateTable('budgets').set({ notified_month: month, notified: JSON.stringify(notified) }).where('project', '=', project).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteBudget(project: string): Promise<boolean> {
    const r = await this.db.deleteFrom('budgets').where('project', '=', project).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
