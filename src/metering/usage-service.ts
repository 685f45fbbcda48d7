// metering/usage-service: what the API's usage routes call (api/ports.ts UsagePort): checks the
// query, flushes the meter so the answer includes the last seconds, reads the minute rows of the
// range and shapes them into a report (report.ts) or an invoice (billing.ts). Which project a caller
// may see is decided by the route (api/usage-routes.ts), never here.
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import type { Invoice, PriceSheet, UsageGrouping, UsageReport, UsageRepository } from '../core/usage.ts';
import { buildInvoice } from './billing.ts';
import { monthRange, parseSince, usageReport } from './report.ts';

export interface UsageQueryText {
  /** undefined: every project */
  tenant?: string;
  service?: string;
  since?: string;
  until?: string;
  by?: string;
}

const GROUPINGS: readonly UsageGrouping[] = ['hour', 'day', 'service'];

export class UsageService {
  constructor(
    private readonly d: {
      rows: Pick<UsageRepository, 'minutes'>;
      prices: PriceSheet;
      clock: Clock;
      /** writes what the meter holds (the open minute) before a read; absent: metering is off */
      flush?: () => Promise<void>;
    },
  ) {}

  async report(q: UsageQueryText): Promise<UsageReport> {
    const now = this.d.clock.now();
    const by = (q.by ?? 'day') as UsageGrouping;
    if (!GROUPINGS.includes(by)) throw new SkiffError('BAD_REQUEST', `by: expected hour, day or service, got ${JSON.stringify(q.by)}`);
    // default: since the start of the current month (UTC)
    const start = new Date(now);
    const from = q.since !== undefined ? this.time(q.since, 'since') : Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1);
    const to = q.until !== undefined ? this.time(q.until, 'until') : now + 60_000;
    if (to <= from) throw new SkiffError('BAD_REQUEST', 'until must be after since');
    await this.d.flush?.();
    const rows = await this.d.rows.minutes({ from, to, ...(q.tenant !== undefined ? { tenant: q.tenant } : {}), ...(q.service !== undefined ? { service: q.service } : {}) });
    return usageReport(rows, { project: q.tenant ?? '*', ...(q.service !== undefined ? { service: q.service } : {}), from, to, by });
  }

  async invoice(month: string, tenant: string | undefined): Promise<Invoice> {
    const range = monthRange(month);
    if (!range) throw new SkiffError('BAD_REQUEST', `month: expected YYYY-MM such as 2026-12, got ${JSON.stringify(month)}`);
    await this.d.flush?.();
    const rows = await this.d.rows.minutes({ ...range, ...(tenant !== undefined ? { tenant } : {}) });
    return buildInvoice(month, tenant ?? '*', rows, this.d.prices);
  }

  private time(text: string, what: string): number {
    const t = parseSince(text);
    if (t === undefined) throw new SkiffError('BAD_REQUEST', `${what}: expected a date such as 2026-12-01 or an ISO time, got ${JSON.stringify(text)}`);
    return t;
  }
}
