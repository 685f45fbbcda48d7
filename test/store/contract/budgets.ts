// test/store/contract/budgets: BudgetsRepository on one dialect — a project's budget put (created or
// replaced), read back with its decimal text unchanged, listed by project, its notified thresholds
// recorded per month, removed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BudgetRecord } from '../../../src/core/budgets.ts';
import { open, type StoreTarget } from '../fixtures.ts';

const budget = (o: Partial<BudgetRecord> = {}): BudgetRecord => ({
  project: 'team-a',
  monthly: '50.00',
  soft: ['80', '95.5'],
  action: 'cap',
  webhook: 'http://127.0.0.1:9/hook',
  notified: [],
  createdAt: 1000,
  updatedAt: 1000,
  ...o,
});

export function budgetsContract(target: StoreTarget): void {
  test('budgets: put (create, then replace), get, list by project, notified per month, delete', async (t) => {
    const { budgets } = await open(t, await target.fresh(t));
    assert.equal(await budgets.getBudget('team-a'), undefined);
    await budgets.putBudget(budget());
    assert.deepEqual(await budgets.getBudget('team-a'), budget());
    // replaced: amounts stay exact decimal text; no webhook is undefined, not null
    const { webhook: _w, ...noHook } = budget({ monthly: '0.000001', soft: [], action: 'stop', updatedAt: 2000 });
    await budgets.putBudget({ ...noHook, createdAt: 5 });
    const got = await budgets.getBudget('team-a');
    assert.deepEqual(got, { ...noHook, createdAt: 1000 }, 'created_at kept on replace');
    assert.equal('webhook' in got!, false);
    await budgets.putBudget(budget({ project: 'default', action: 'notify' }));
    assert.deepEqual((await budgets.listBudgets()).map((b) => b.project), ['default', 'team-a']);

    assert.equal(await budgets.setNotified('team-a', '2026-12', ['80', '100']), true);
    const n = await budgets.getBudget('team-a');
    assert.equal(n?.notifiedMonth, '2026-12');
    assert.deepEqual(n?.notified, ['80', '100']);
    assert.equal(await budgets.setNotified('nobody', '2026-12', ['80']), false);

    assert.equal(await budgets.deleteBudget('team-a'), true);
    assert.equal(await budgets.deleteBudget('team-a'), false);
    assert.equal(await budgets.getBudget('team-a'), undefined);
    assert.deepEqual((await budgets.listBudgets()).map((b) => b.project), ['default']);
  });
}
