// metering/budget: the budget decider, pure (time is a parameter): from a project's budget, what it
// spent this month and over the last minutes, decides its state (ok | soft | exhausted), the forecast
// to month end, the thresholds to tell now (each once per month: the record keeps those told and the
// month they belong to, so a new month starts with none told) and what to enforce. Decimal arithmetic
// throughout (billing.ts Dec): no float between a price and a comparison with the budget.
//   state      exhausted: spent ≥ monthly; soft: spent ≥ monthly × a soft threshold; else ok
//   forecast   spent + rate × (end of month − now), rate = spent over the window ÷ the window
//   enforce    exhausted and action cap → 'cap' (no instance beyond those held then), stop → 'stop'
//              (none runs, requests answered 402); else 'none' — a raised budget or a new month lifts it
import { Decimal } from 'decimal.js';
import type { BudgetRecord, BudgetState } from '../core/budgets.ts';
import { Dec } from './billing.ts';

/** the threshold told when the budget is spent (beside the soft ones) */
export const SPENT_THRESHOLD = '100';

const HOUR_MS = 3600_000;

export interface BudgetInputs {
  /** spend this month so far, exact decimal text */
  spent: string;
  /** spend over the last `windowMs` (exact decimal text) and that window's length */
  recent: { spent: string; windowMs: number };
  now: number;
}

export interface BudgetDecision {
  month: string;
  state: BudgetState;
  /** decimal text, exact */
  spent: string;
  ratePerHour: string;
  forecast: string;
  /** thresholds crossed and not told yet this month, ascending (SPENT_THRESHOLD last) */
  tell: string[];
  /** every threshold told this month after `tell` (what the record keeps) */
  notified: string[];
  enforce: 'none' | 'cap' | 'stop';
}

/** YYYY-MM (UTC) of an instant. */
export function monthOf(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** [start, end) of the UTC month holding `now`, epoch ms. */
export function monthBounds(now: number): { from: number; to: number } {
  const d = new Date(now);
  return { from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** A budget amount ("50", "50.00"): positive decimal text, or throws. */
export function parseAmount(text: string): string {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t) || new Dec(t).isZero()) throw new RangeError(`expected a positive decimal amount such as 50.00, got ${JSON.stringify(text)}`);
  return t;
}

/** A soft threshold ("80%", "80", "95.5%"): a percentage above 0 and below 100, as decimal text. */
export function parseThreshold(text: string): string {
  const t = text.trim().replace(/%$/, '');
  if (!/^\d+(\.\d+)?$/.test(t)) throw new RangeError(`expected a percentage such as 80%, got ${JSON.stringify(text)}`);
  const d = new Dec(t);
  if (d.lte(0) || d.gte(100)) throw new RangeError(`a soft threshold is above 0% and below 100%, got ${JSON.stringify(text)}`);
  return d.toFixed();
}

/** Ascending by value, without duplicates. */
export function sortThresholds(ts: readonly string[]): string[] {
  return [...new Set(ts.map((t) => new Dec(t).toFixed()))].sort((a, b) => new Dec(a).comparedTo(b));
}

export function decideBudget(budget: Pick<BudgetRecord, 'monthly' | 'soft' | 'action' | 'notified' | 'notifiedMonth'>, inputs: BudgetInputs): BudgetDecision {
  const month = monthOf(inputs.now);
  const monthly = new Dec(budget.monthly);
  const spent = new Dec(inputs.spent);
  const { to } = monthBounds(inputs.now);
  const rateMs = inputs.recent.windowMs > 0 ? new Dec(inputs.recent.spent).div(inputs.recent.windowMs) : new Dec(0);
  const forecast = spent.plus(rateMs.times(Math.max(0, to - inputs.now)));
  const crossed = sortThresholds(budget.soft).filter((t) => spent.gte(monthly.times(t).div(100)));
  const exhausted = spent.gte(monthly);
  if (exhausted) crossed.push(SPENT_THRESHOLD);
  // a record of another month told nothing of this one
  const told = budget.notifiedMonth === month ? budget.notified : [];
  const tell = crossed.filter((t) => !told.includes(t));
  const state: BudgetState = exhausted ? 'exhausted' : crossed.length > 0 ? 'soft' : 'ok';
  return {
    month,
    state,
    spent: spent.toFixed(),
    ratePerHour: rateMs.times(HOUR_MS).toFixed(),
    forecast: forecast.toFixed(),
    tell,
    notified: [...told, ...tell],
    enforce: exhausted && budget.action !== 'notify' ? budget.action : 'none',
  };
}

/** Money as shown: rounded half-up to `places`. */
export function money(text: string, places = 2): string {
  return new Dec(text).toFixed(places, Decimal.ROUND_HALF_UP);
}
