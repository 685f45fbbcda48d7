// web/usage-model: the Usage and billing page's arithmetic and words — pure, tested in
// test/web/usage-model.test.ts. Money and metered quantities arrive as decimal text ("41.2000031");
// they are added, compared and turned into percentages here with BigInt fixed-point, never as floats,
// so what the page says matches the invoice to the last digit. Numbers are made only for display
// widths and percentages, after the exact arithmetic.
import type { BudgetStatus } from '../../src/core/budgets.ts';
import type { Invoice, UsageLine, UsageReport } from '../../src/core/usage.ts';

/** digits kept after the point in sums (the API's quantities have at most 9) */
const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);

/** "12.5" → 12.5 × 10^12 as a BigInt; anything that is not a decimal throws */
export function toFixed(decimal: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(decimal)}`);
  const frac = (m[3] ?? '').slice(0, SCALE).padEnd(SCALE, '0');
  const v = BigInt(m[2]!) * ONE + BigInt(frac);
  return m[1] ? -v : v;
}

/** the inverse of toFixed, without trailing zeros ("12.5", "3") */
export function fromFixed(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = a / ONE;
  const frac = (a % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export function addDecimals(...values: string[]): string {
  return fromFixed(values.reduce((n, v) => n + toFixed(v), 0n));
}

export function compareDecimals(a: string, b: string): number {
  const d = toFixed(a) - toFixed(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** part / whole in percent, rounded down to a tenth (exact: 80 % of 50.00 is 40.00, not 39.99…) */
export function percentOf(part: string, whole: string): number | undefined {
  const w = toFixed(whole);
  if (w <= 0n) return undefined;
  return Number((toFixed(part) * 1000n) / w) / 10;
}

/** `decimal` with exactly `places` digits after the point, rounded half-up (for display: 2 for money) */
export function roundDecimal(decimal: string, places: number): string {
  const v = toFixed(decimal);
  const unit = 10n ** BigInt(SCALE - places);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const r = (a + unit / 2n) / unit;
  const s = r.toString().padStart(places + 1, '0');
  const out = places === 0 ? s : `${s.slice(0, -places)}.${s.slice(-places)}`;
  return `${neg && r !== 0n ? '-' : ''}${out}`;
}

/** "41.20 USD": money to the cent for reading; the CSV and the API keep every digit */
export function formatMoney(amount: string, currency: string): string {
  return `${roundDecimal(amount, 2)} ${currency}`;
}

/** A bar's width class in 5 % steps (resources.css w-0 … w-100): the CSP allows no inline style. */
export function widthClass(part: string, whole: string): string {
  const p = percentOf(part, whole);
  if (p === undefined || p <= 0) return 'w-0';
  return `w-${Math.min(100, Math.max(5, Math.round(p / 5) * 5))}`;
}

/** "2026-12" of a time (UTC, as the API's months are) */
export function monthOf(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** this month and the `count - 1` before it, newest first */
export function recentMonths(now: number, count = 12): string[] {
  const d = new Date(now);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1)).toISOString().slice(0, 7));
  return out;
}

/** the usage query of a month: from its first day; to the next month's first, unless it is this month (to now) */
export function monthRange(month: string, now: number): { since: string; until?: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return month === monthOf(now) ? { since: `${month}-01` } : { since: `${month}-01`, until: next };
}

export interface Threshold {
  /** "80" (percent) or "100" (the budget itself) */
  percent: string;
  /** the amount it stands for, to the cent */
  amount: string;
  reached: boolean;
}

export interface BudgetSummary {
  project: string;
  monthly: string;
  spent: string;
  forecast: string;
  ratePerHour: string;
  /** spent as a share of the budget, for the meter */
  spentPercent: number;
  forecastPercent: number;
  state: BudgetStatus['state'];
  action: BudgetStatus['action'];
  enforced: string;
  /** the forecast goes past the budget before the month ends */
  overForecast: boolean;
  thresholds: Threshold[];
}

export function budgetSummary(b: BudgetStatus): BudgetSummary {
  const thresholds = [...b.soft, '100'].map((percent) => {
    const amount = fromFixed((toFixed(b.monthly) * toFixed(percent)) / (100n * ONE));
    return { percent, amount: roundDecimal(amount, 2), reached: compareDecimals(b.spent, amount) >= 0 };
  });
  return {
    project: b.project,
    monthly: formatMoney(b.monthly, b.currency),
    spent: formatMoney(b.spent, b.currency),
    forecast: formatMoney(b.forecast, b.currency),
    ratePerHour: `${b.ratePerHour} ${b.currency}/h`,
    spentPercent: percentOf(b.spent, b.monthly) ?? 0,
    forecastPercent: percentOf(b.forecast, b.monthly) ?? 0,
    state: b.state,
    action: b.action,
    enforced: b.enforced === 'cap' && b.cappedAt !== undefined ? `cap at ${b.cappedAt} instances` : b.enforced,
    overForecast: compareDecimals(b.forecast, b.monthly) > 0,
    thresholds,
  };
}

export interface UsageRow {
  /** the day (YYYY-MM-DD) or "project/service" */
  label: string;
  requests: number;
  /** instance-seconds billed, to the tenth */
  billable: string;
  vcpu: string;
  gib: string;
  egress: number;
  /** bar width of the billable seconds against the largest row's */
  width: string;
}

function rowsOf(lines: UsageLine[], label: (l: UsageLine) => string): UsageRow[] {
  const max = lines.reduce((m, l) => (compareDecimals(l.billableSeconds, m) > 0 ? l.billableSeconds : m), '0');
  return lines.map((l) => ({
    label: label(l),
    requests: l.requests,
    billable: roundDecimal(l.billableSeconds, 1),
    vcpu: roundDecimal(l.vcpuSecondsAllocated, 1),
    gib: roundDecimal(l.gibSecondsAllocated, 1),
    egress: l.egressBytes,
    width: widthClass(l.billableSeconds, max),
  }));
}

/** a report by day: one row a day, oldest first */
export function dayRows(report: UsageReport): UsageRow[] {
  return rowsOf([...report.lines].sort((a, b) => (a.period ?? '').localeCompare(b.period ?? '')), (l) => (l.period ?? '').slice(0, 10));
}

/** a report by service: one row a service, the most billed first (ties by name) */
export function serviceRows(report: UsageReport): UsageRow[] {
  const lines = [...report.lines].sort((a, b) => compareDecimals(b.billableSeconds, a.billableSeconds) || `${a.project}/${a.service}`.localeCompare(`${b.project}/${b.service}`));
  return rowsOf(lines, (l) => (report.project === '*' && l.project ? `${l.project}/${l.service ?? ''}` : l.service ?? '—'));
}

/** each service's amount on the invoice (exact sums of its lines), the largest first */
export function amountsByService(invoice: Invoice): Array<{ service: string; amount: string }> {
  const by = new Map<string, bigint>();
  for (const l of invoice.lines) {
    const key = invoice.project === '*' ? `${l.project}/${l.service}` : l.service;
    by.set(key, (by.get(key) ?? 0n) + toFixed(l.amount));
  }
  return [...by].sort((a, b) => (a[1] === b[1] ? a[0].localeCompare(b[0]) : a[1] > b[1] ? -1 : 1)).map(([service, v]) => ({ service, amount: fromFixed(v) }));
}

export const CSV_COLUMNS = ['project', 'service', 'item', 'description', 'quantity', 'unit', 'unitPrice', 'amount', 'currency'] as const;

/** a CSV field: quoted when it holds a comma, quote or line break (RFC 4180); a leading =, +, - or @
 *  is prefixed with ' so a spreadsheet does not run it as a formula */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The invoice as CSV: a header, a line per invoice line (every digit as the API sent it), then the
 *  subtotal and the total. CRLF line ends, as RFC 4180 and spreadsheets expect. */
export function invoiceCsv(invoice: Invoice): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const l of invoice.lines) rows.push([l.project, l.service, l.item, l.description, l.quantity, l.unit, l.unitPrice, l.amount, invoice.currency]);
  rows.push([invoice.project, '', 'subtotal', `subtotal ${invoice.month}`, '', '', '', invoice.subtotal, invoice.currency]);
  rows.push([invoice.project, '', 'total', `total ${invoice.month} (rounded to cents)`, '', '', '', invoice.total, invoice.currency]);
  return `${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** "skiff-bill-team-a-2026-12.csv" ('*': all-projects) */
export function csvFileName(invoice: Pick<Invoice, 'project' | 'month'>): string {
  return `skiff-bill-${invoice.project === '*' ? 'all-projects' : invoice.project}-${invoice.month}.csv`;
}
