// Budgets (metering/budget.ts, budget-service.ts), pure and with fakes: state and forecast in exact
// decimals, each soft threshold told once per month (a new month tells again and lifts a cap), cap at
// the instances held when the budget was spent, stop at 0, a raised budget lifting either at once; and
// the quota ledger's budget cap (core/quota.ts capInstances).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBudget, monthBounds, parseAmount, parseThreshold } from '../../src/metering/budget.ts';
import { BudgetService, type BudgetNotice } from '../../src/metering/budget-service.ts';
import type { BudgetRecord, BudgetsRepository } from '../../src/core/budgets.ts';
import type { PriceSheet, UsageMinute, UsageQuery } from '../../src/core/usage.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { QuotaLedger } from '../../src/core/quota.ts';

const DEC_1 = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;
const budget = (o: Partial<BudgetRecord> = {}): BudgetRecord => ({ project: 'team-a', monthly: '50.00', soft: ['50', '80'], action: 'cap', notified: [], createdAt: 0, updatedAt: 0, ...o });

test('decider: state by the spend, forecast = spent + rate × time left, exact in decimals', () => {
  // Dec 11 00:00: 20 days left of 31. 0.1 + 0.2 spent, 0.01 in the last hour → 0.24 a day
  const now = DEC_1 + 10 * DAY;
  const d = decideBudget(budget(), { spent: '0.3', recent: { spent: '0.01', windowMs: 3600_000 }, now });
  assert.equal(d.month, '2026-12');
  assert.equal(d.state, 'ok');
  assert.equal(d.spent, '0.3');
  assert.equal(d.ratePerHour, '0.01');
  assert.equal(d.forecast, '5.34'); // 0.3 + 0.01 × 21 days × 24 h (Dec 11 → Jan 1 is 21 days)
  assert.deepEqual(d.tell, []);
  assert.equal(d.enforce, 'none');

  const soft = decideBudget(budget(), { spent: '40', recent: { spent: '0', windowMs: 900_000 }, now });
  assert.equal(soft.state, 'soft');
  assert.deepEqual(soft.tell, ['50', '80']); // 40 ≥ 25 and ≥ 40 exactly
  assert.equal(soft.enforce, 'none');

  const spent = decideBudget(budget({ notified: ['50', '80'], notifiedMonth: '2026-12' }), { spent: '50.000000000000000001', recent: { spent: '0', windowMs: 0 }, now });
  assert.equal(spent.state, 'exhausted');
  assert.deepEqual(spent.tell, ['100']);
  assert.deepEqual(spent.notified, ['50', '80', '100']);
  assert.equal(spent.enforce, 'cap');
  assert.equal(decideBudget(budget({ action: 'notify' }), { spent: '60', recent: { spent: '0', windowMs: 0 }, now }).enforce, 'none');
  assert.equal(decideBudget(budget({ action: 'stop' }), { spent: '50', recent: { spent: '0', windowMs: 0 }, now }).enforce, 'stop');
  // just under: 49.999999 is not spent
  assert.equal(decideBudget(budget(), { spent: '49.999999', recent: { spent: '0', windowMs: 0 }, now }).state, 'soft');
});

test('decider: thresholds told once per month; a new month starts with none told', () => {
  const now = DEC_1 + DAY;
  const told = budget({ notified: ['50'], notifiedMonth: '2026-12' });
  assert.deepEqual(decideBudget(told, { spent: '30', recent: { spent: '0', windowMs: 0 }, now }).tell, []);
  assert.deepEqual(decideBudget(told, { spent: '45', recent: { spent: '0', windowMs: 0 }, now }).tell, ['80']);
  // January: December's notifications count for nothing
  const jan = monthBounds(now).to + 1000;
  const d = decideBudget(told, { spent: '30', recent: { spent: '0', windowMs: 0 }, now: jan });
  assert.equal(d.month, '2027-01');
  assert.deepEqual(d.tell, ['50']);
  assert.deepEqual(d.notified, ['50']);
});

test('parsing: amounts and thresholds are decimal text', () => {
  assert.equal(parseAmount(' 50.00 '), '50.00');
  assert.throws(() => parseAmount('0'));
  assert.throws(() => parseAmount('-1'));
  assert.throws(() => parseAmount('1e3'));
  assert.equal(parseThreshold('80%'), '80');
  assert.equal(parseThreshold('95.50'), '95.5');
  assert.throws(() => parseThreshold('100%'));
  assert.throws(() => parseThreshold('0'));
});

test('ledger: a budget cap refuses starts beyond it (budget: true), 0 means stopped, undefined lifts it', () => {
  const l = new QuotaLedger();
  const one = { instances: 1, memoryBytes: 1, cpuMillis: 1 };
  assert.deepEqual(l.reserve('a', 'team-a', one), { ok: true });
  assert.deepEqual(l.reserve('b', 'team-a', one), { ok: true });
  l.capInstances('team-a', { instances: 2, message: 'spent' });
  assert.deepEqual(l.reserve('c', 'team-a', one), { ok: false, message: 'spent', budget: true });
  assert.deepEqual(l.reserve('x', 'team-b', one), { ok: true }, 'another project is not capped');
  assert.equal(l.stopped('team-a'), false);
  l.release('a');
  assert.deepEqual(l.reserve('c', 'team-a', one), { ok: true }, 'below the cap again');
  l.capInstances('team-a', { instances: 0, message: 'stopped' });
  assert.equal(l.stopped('team-a'), true);
  assert.equal(l.reserve('d', 'team-a', one).ok, false);
  l.capInstances('team-a', undefined);
  assert.equal(l.stopped('team-a'), false);
  assert.deepEqual(l.reserve('d', 'team-a', one), { ok: true });
});

class MemBudgets implements BudgetsRepository {
  readonly rows = new Map<string, BudgetRecord>();
  async putBudget(b: BudgetRecord) {
    this.rows.set(b.project, structuredClone(b));
  }
  async getBudget(p: string) {
    const b = this.rows.get(p);
    return b && structuredClone(b);
  }
  async listBudgets() {
    return [...this.rows.values()].map((b) => structuredClone(b));
  }
  async setNotified(p: string, month: string, notified: string[]) {
    const b = this.rows.get(p);
    if (!b) return false;
    b.notifiedMonth = month;
    b.notified = [...notified];
    return true;
  }
  async deleteBudget(p: string) {
    return this.rows.delete(p);
  }
}

const PRICES: PriceSheet = { currency: 'USD', vcpuSecond: '0.01', gibSecond: '0', millionRequests: '0', idleDiscount: '0' };

/** one instance-minute of 1 vCPU busy for `seconds`: 0.01 × seconds */
function used(minute: number, seconds: number, tenant = 'team-a'): UsageMinute {
  return { minute, instance: `i-${minute}`, run: 'r', tenant, service: 'app', revision: 'app-00001', billing: 'request', cpuMillis: 1000, memoryBytes: 0, startingMs: 0, servingMs: 0, idleMs: 0, frozenMs: 0, busyMs: seconds * 1000, cpuNanos: 0, memUsedKibMs: 0, requests: 0, egressBytes: 0, lastAt: minute, cpuCounterNanos: 0 };
}

function harness(start: number) {
  const clock = new FakeClock(start);
  const budgets = new MemBudgets();
  const minutes: UsageMinute[] = [];
  const notices: BudgetNotice[] = [];
  const limits: Array<[string, number | undefined]> = [];
  let held = 3;
  const service = new BudgetService({
    budgets,
    rows: { minutes: async (q: UsageQuery) => minutes.filter((m) => m.minute >= q.from && m.minute < q.to && (q.tenant === undefined || m.tenant === q.tenant)) },
    prices: PRICES,
    clock,
    log: silentLogger,
    projectExists: async (p: string) => p !== 'nobody',
    enforcer: { held: () => held, limit: (p, cap) => void limits.push([p, cap?.instances]) },
    notify: (n) => void notices.push(n),
  });
  return { clock, budgets, minutes, notices, limits, service, setHeld: (n: number) => (held = n) };
}

test('service: soft thresholds told once each; spent → cap at the instances held; raised → lifted at once', async () => {
  const h = harness(DEC_1 + 10 * DAY);
  await h.service.set('team-a', { monthly: '1.00', soft: ['50%'], action: 'cap', webhook: 'http://hook' });
  h.minutes.push(used(DEC_1 + 10 * DAY - 60_000, 60)); // 0.60
  await h.service.evaluate();
  assert.deepEqual(h.notices.map((n) => [n.threshold, n.spent, n.webhook]), [['50', '0.60', 'http://hook']]);
  await h.service.evaluate();
  assert.equal(h.notices.length, 1, 'told once');
  assert.deepEqual(h.limits, []);

  h.minutes.push(used(DEC_1 + 10 * DAY, 50)); // 1.10 in all
  h.setHeld(3);
  await h.service.evaluate();
  assert.deepEqual(h.notices.map((n) => n.threshold), ['50', '100']);
  assert.deepEqual(h.limits, [['team-a', 3]]);
  const s = await h.service.get('team-a');
  assert.equal(s.state, 'exhausted');
  assert.equal(s.enforced, 'cap');
  assert.equal(s.cappedAt, 3);
  assert.equal(s.spent, '1.10');
  // held changes do not move the cap: it is where it was when the budget was spent
  h.setHeld(1);
  await h.service.evaluate();
  assert.deepEqual(h.limits, [['team-a', 3]]);

  // raised: lifted at once (the set itself, not the next evaluation)
  const raised = await h.service.set('team-a', { monthly: '5', soft: ['50%'], action: 'cap' });
  assert.equal(raised.state, 'ok');
  assert.equal(raised.enforced, 'none');
  assert.deepEqual(h.limits, [['team-a', 3], ['team-a', undefined]]);
});

test('service: stop limits to 0; a new month lifts it; removing the budget lifts it; bad input is BAD_REQUEST', async () => {
  const h = harness(DEC_1 + 30 * DAY + 23 * 3600_000); // Dec 31, 23:00
  h.minutes.push(used(DEC_1 + 30 * DAY, 60));
  await h.service.set('team-a', { monthly: '0.5', action: 'stop' });
  assert.deepEqual(h.limits, [['team-a', 0]]);
  assert.equal((await h.service.get('team-a')).enforced, 'stop');
  await h.clock.advance(3600_000); // Jan 1, 00:00: nothing spent this month
  await h.service.evaluate();
  assert.deepEqual(h.limits, [['team-a', 0], ['team-a', undefined]]);
  const jan = await h.service.get('team-a');
  assert.equal(jan.month, '2027-01');
  assert.equal(jan.spent, '0.00');

  const h2 = harness(DEC_1 + DAY);
  h2.minutes.push(used(DEC_1, 60));
  await h2.service.set('team-a', { monthly: '0.5', action: 'stop' });
  await h2.service.remove('team-a');
  assert.deepEqual(h2.limits, [['team-a', 0], ['team-a', undefined]]);
  await assert.rejects(h2.service.get('team-a'), (e: unknown) => e instanceof SkiffError && e.code === 'NOT_FOUND');
  for (const bad of [{ monthly: '50,00' }, { monthly: '0' }, { monthly: '5', soft: ['120%'] }, { monthly: '5', action: 'halt' }, { monthly: '5', webhook: 'ftp://x' }]) {
    await assert.rejects(h2.service.set('team-a', bad), (e: unknown) => e instanceof SkiffError && e.code === 'BAD_REQUEST', JSON.stringify(bad));
  }
});

test('service: a budget is set only on a project that exists; forget removes it and lifts its cap', async () => {
  const h = harness(DEC_1 + DAY);
  await assert.rejects(h.service.set('nobody', { monthly: '5' }), (e: unknown) => e instanceof SkiffError && e.code === 'NOT_FOUND');
  h.minutes.push(used(DEC_1, 60));
  await h.service.set('team-a', { monthly: '0.5', action: 'cap' });
  await h.service.forget('team-a');
  assert.deepEqual(h.limits, [['team-a', 3], ['team-a', undefined]]);
  assert.equal(h.budgets.rows.size, 0);
});
