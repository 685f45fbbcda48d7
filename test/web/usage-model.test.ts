// The Usage and billing page's arithmetic (web/src/usage-model.ts): decimal money without floats, the
// budget's thresholds, usage rows and the invoice CSV. Pure functions, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BudgetStatus } from '../../src/core/budgets.ts';
import type { Invoice, UsageLine, UsageReport } from '../../src/core/usage.ts';
import { addDecimals, amountsByService, budgetSummary, compareDecimals, csvField, csvFileName, dayRows, formatMoney, invoiceCsv, monthRange, percentOf, recentMonths, roundDecimal, serviceRows, toFixed, widthClass } from '../../web/src/usage-model.ts';

test('decimals add, compare and round exactly, where floats would not', () => {
  // 0.1 + 0.2 is 0.30000000000000004 as floats
  assert.equal(addDecimals('0.1', '0.2'), '0.3');
  assert.equal(addDecimals('41.2000031', '0.0000069', '-1'), '40.20001');
  assert.equal(addDecimals(), '0');
  assert.equal(compareDecimals('10.00', '10'), 0);
  assert.equal(compareDecimals('9.999999999', '10'), -1);
  assert.equal(roundDecimal('2.675', 2), '2.68'); // a float rounds 2.675 to 2.67
  assert.equal(roundDecimal('0.004', 2), '0.00');
  assert.equal(roundDecimal('-0.005', 2), '-0.01');
  assert.equal(roundDecimal('12', 2), '12.00');
  assert.equal(formatMoney('41.2', 'USD'), '41.20 USD');
  assert.throws(() => toFixed('1e3'), /not a decimal/);
  assert.equal(percentOf('40', '50.00'), 80);
  assert.equal(percentOf('1', '3'), 33.3);
  assert.equal(percentOf('1', '0'), undefined);
  assert.equal(widthClass('0', '10'), 'w-0');
  assert.equal(widthClass('0.01', '10'), 'w-5'); // something shows
  assert.equal(widthClass('7.6', '10'), 'w-75');
  assert.equal(widthClass('30', '10'), 'w-100');
});

test('months: the last twelve, and the usage range of each (this month runs to now)', () => {
  const now = Date.parse('2026-03-15T10:00:00Z');
  assert.deepEqual(recentMonths(now, 4), ['2026-03', '2026-02', '2026-01', '2025-12']);
  assert.deepEqual(monthRange('2026-03', now), { since: '2026-03-01' });
  assert.deepEqual(monthRange('2025-12', now), { since: '2025-12-01', until: '2026-01-01' });
});

const budget = (over: Partial<BudgetStatus> = {}): BudgetStatus => ({ project: 'team-a', month: '2026-12', currency: 'USD', monthly: '50.00', soft: ['80', '95'], action: 'cap', spent: '41.20', ratePerHour: '0.0450', forecast: '58.63', state: 'soft', enforced: 'none', ...over });

test('a budget: amounts at each threshold, which are reached, the forecast against the budget', () => {
  const s = budgetSummary(budget());
  assert.deepEqual(s.thresholds, [
    { percent: '80', amount: '40.00', reached: true },
    { percent: '95', amount: '47.50', reached: false },
    { percent: '100', amount: '50.00', reached: false },
  ]);
  assert.equal(s.spent, '41.20 USD');
  assert.equal(s.spentPercent, 82.4);
  assert.equal(s.overForecast, true);
  assert.equal(s.forecastPercent, 117.2);
  // exactly at a threshold counts as reached
  assert.equal(budgetSummary(budget({ spent: '40.00' })).thresholds[0]!.reached, true);
  assert.equal(budgetSummary(budget({ spent: '39.99' })).thresholds[0]!.reached, false);
  assert.equal(budgetSummary(budget({ enforced: 'cap', cappedAt: 3 })).enforced, 'cap at 3 instances');
});

const line = (extra: Partial<UsageLine>): UsageLine => ({ startingSeconds: '0', servingSeconds: '0', idleSeconds: '0', frozenSeconds: '0', billableSeconds: '0', vcpuSecondsAllocated: '0', vcpuSecondsUsed: '0', gibSecondsAllocated: '0', gibSecondsUsed: '0', requests: 0, egressBytes: 0, ...extra });
const report = (by: UsageReport['by'], lines: UsageLine[], project = 'team-a'): UsageReport => ({ project, since: '', until: '', by, lines, total: line({}) });

test('usage rows: days oldest first, services most billed first, bars against the largest', () => {
  const days = dayRows(report('day', [line({ period: '2026-12-02T00:00:00.000Z', billableSeconds: '5', requests: 3 }), line({ period: '2026-12-01T00:00:00.000Z', billableSeconds: '10.04' })]));
  assert.deepEqual(days.map((d) => [d.label, d.billable, d.width, d.requests]), [['2026-12-01', '10.0', 'w-100', 0], ['2026-12-02', '5.0', 'w-50', 3]]);
  const services = serviceRows(report('service', [line({ service: 'a', billableSeconds: '1' }), line({ service: 'b', billableSeconds: '2' }), line({ service: 'c', billableSeconds: '2' })]));
  assert.deepEqual(services.map((s) => s.label), ['b', 'c', 'a']);
  // every project: the project is part of the label
  assert.deepEqual(serviceRows(report('service', [line({ project: 'p', service: 's' })], '*')).map((s) => s.label), ['p/s']);
});

const invoice: Invoice = {
  month: '2026-12', project: 'team-a', currency: 'USD',
  lines: [
    { project: 'team-a', service: 'web', item: 'vcpu-seconds', description: 'vCPU-seconds, "busy"', quantity: '120.5', unit: 'vCPU-s', unitPrice: '0.000024', amount: '0.002892' },
    { project: 'team-a', service: 'web', item: 'requests', description: 'requests', quantity: '1000', unit: 'requests', unitPrice: '0.40', amount: '0.0004' },
    { project: 'team-a', service: 'api', item: 'gib-seconds', description: 'GiB-seconds', quantity: '10', unit: 'GiB-s', unitPrice: '0.0000025', amount: '0.000025' },
  ],
  subtotal: '0.003317', total: '0.00',
};

test('the invoice: amounts by service are exact sums; the CSV keeps every digit and quotes what needs it', () => {
  assert.deepEqual(amountsByService(invoice), [{ service: 'web', amount: '0.003292' }, { service: 'api', amount: '0.000025' }]);
  const csv = invoiceCsv(invoice);
  const rows = csv.split('\r\n');
  assert.equal(rows[0], 'project,service,item,description,quantity,unit,unitPrice,amount,currency');
  assert.equal(rows[1], 'team-a,web,vcpu-seconds,"vCPU-seconds, ""busy""",120.5,vCPU-s,0.000024,0.002892,USD');
  assert.equal(rows[4], 'team-a,,subtotal,subtotal 2026-12,,,,0.003317,USD');
  assert.equal(rows[5], 'team-a,,total,total 2026-12 (rounded to cents),,,,0.00,USD');
  assert.equal(rows[6], '');
  assert.equal(csvFileName(invoice), 'skiff-bill-team-a-2026-12.csv');
  assert.equal(csvFileName({ project: '*', month: '2026-01' }), 'skiff-bill-all-projects-2026-01.csv');
  // a spreadsheet would run these as formulas; numbers stay numbers
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('@cmd'), "'@cmd");
  assert.equal(csvField('-0.01'), '-0.01');
  assert.equal(csvField('line\nbreak'), '"line\nbreak"');
});
