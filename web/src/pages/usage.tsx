// web/pages/usage: the Usage and billing page — for the session's project (a token spanning every
// project picks one, or all): the month's spend, the budget with its thresholds, state and forecast
// (GET /api/v1/budgets), usage by service and by day (GET /api/v1/usage?by=service|day), and the
// invoice (GET /api/v1/bill?month=) with a CSV download made in the browser (a Blob behind an object
// URL: a download is a navigation, which the dashboard's CSP does not restrict, so it needs no change).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { BudgetStatus } from '../../../src/core/budgets.ts';
import type { Invoice, UsageReport } from '../../../src/core/usage.ts';
import type { ProjectView } from '../../../src/core/views.ts';
import type { PageProps } from '../page.ts';
import { getJson, type ApiResult } from '../api.ts';
import { useChanges } from '../live.ts';
import { formatBytes } from '../resources-model.ts';
import { amountsByService, budgetSummary, csvFileName, dayRows, formatMoney, invoiceCsv, monthOf, monthRange, recentMonths, serviceRows, type UsageRow } from '../usage-model.ts';
import { ErrorLine, ListTable } from '../resources-view.tsx';

const ALL = '*';

interface Data {
  budgets: BudgetStatus[];
  invoice: Invoice;
  byDay: UsageReport;
  byService: UsageReport;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return q.toString();
}

function UsageTable(props: { caption: string; first: string; rows: UsageRow[] }) {
  return (
    <ListTable caption={props.caption} columns={[props.first, 'Billed instance-seconds', 'Requests', 'vCPU-seconds', 'GiB-seconds', 'Egress']}>
      {props.rows.map((r) => (
        <tr key={r.label}>
          <th scope="row" data-label={props.first}>{r.label}</th>
          <td data-label="Billed seconds">
            <span class="actions"><span class="bar-track" aria-hidden="true"><span class={`bar-fill ${r.width}`} /></span> {r.billable}</span>
          </td>
          <td data-label="Requests" class="num">{r.requests}</td>
          <td data-label="vCPU-seconds" class="num">{r.vcpu}</td>
          <td data-label="GiB-seconds" class="num">{r.gib}</td>
          <td data-label="Egress" class="num">{formatBytes(r.egress)}</td>
        </tr>
      ))}
    </ListTable>
  );
}

function Budget(props: { budget: BudgetStatus | undefined; project: string; thisMonth: boolean }) {
  if (!props.budget) {
    const why = !props.thisMonth ? 'A budget tracks the current month: pick it to see the budget.' : props.project === ALL ? 'Pick a project to see its budget.' : 'No budget is set for this project (the operator sets one with skiff budget set).';
    return <p class="muted">{why}</p>;
  }
  const s = budgetSummary(props.budget);
  return (
    <div class="card">
      <h2>Budget {s.monthly} a month</h2>
      <p>State <span class={`badge state-${s.state}`}>{s.state}</span> · action {s.action} · enforced {s.enforced}</p>
      <p><label for="budget-meter">Spent {s.spent} ({s.spentPercent}%)</label>
        <meter id="budget-meter" min={0} max={100} low={80} high={99} optimum={0} value={Math.min(100, s.spentPercent)} /></p>
      <p>Forecast {s.forecast} by month end ({s.forecastPercent}%){s.overForecast && <strong class="error"> — over budget</strong>} · rate {s.ratePerHour}</p>
      <ul class="plain" aria-label="Thresholds">
        {s.thresholds.map((t) => (
          <li key={t.percent}>{t.percent === '100' ? 'Budget' : `${t.percent}%`} at {t.amount}: {t.reached ? <strong class="error">reached</strong> : <span class="muted">not reached</span>}</li>
        ))}
      </ul>
    </div>
  );
}

export function UsagePage(props: PageProps) {
  const now = Date.now();
  const months = useMemo(() => recentMonths(now), []);
  const [month, setMonth] = useState(months[0]!);
  /** the session's project, or '*' for a token spanning every project (then `projects` lists them) */
  const [who, setWho] = useState<string | undefined>();
  const [projects, setProjects] = useState<string[]>([]);
  const [project, setProject] = useState<string>(ALL);
  const [data, setData] = useState<Data | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);

  const fail = (r: Exclude<ApiResult<unknown>, { ok: true }>): void => {
    if (r.signedOut) props.onSignedOut();
    else setError(r.status === 403 ? 'This token may not read usage and billing (that needs the deploy role or more).' : r.message);
  };

  useEffect(() => {
    void (async () => {
      const me = await getJson<{ project: string }>('/api/v1/session');
      if (!me.ok) return fail(me);
      setWho(me.value.project);
      if (me.value.project !== ALL) return setProject(me.value.project);
      const list = await getJson<{ projects: ProjectView[] }>('/api/v1/projects');
      if (list.ok) setProjects(list.value.projects.map((p) => p.name).sort());
    })();
  }, []);

  const load = async () => {
    if (who === undefined) return;
    setLoading(true);
    const scope = project === ALL ? undefined : project;
    const range = monthRange(month, Date.now());
    const [budgets, invoice, byDay, byService] = await Promise.all([
      getJson<{ budgets: BudgetStatus[] }>('/api/v1/budgets'),
      getJson<Invoice>(`/api/v1/bill?${query({ month, project: scope })}`),
      getJson<UsageReport>(`/api/v1/usage?${query({ by: 'day', project: scope, ...range })}`),
      getJson<UsageReport>(`/api/v1/usage?${query({ by: 'service', project: scope, ...range })}`),
    ]);
    setLoading(false);
    for (const r of [invoice, byDay, byService]) if (!r.ok) return fail(r);
    if (!(invoice.ok && byDay.ok && byService.ok)) return;
    if (!budgets.ok && budgets.signedOut) return props.onSignedOut();
    setError(undefined);
    // budgets need projects:read, usage usage:read: a token with one and not the other still sees
    // what it may (today both come with the deploy role)
    setData({ budgets: budgets.ok ? budgets.value.budgets : [], invoice: invoice.value, byDay: byDay.value, byService: byService.value });
  };
  useEffect(() => {
    void load();
  }, [who, project, month]);
  useChanges((c) => c.kind === 'budget' || (c.kind === 'service' && (project === ALL || c.project === project)), () => void load(), 2000);

  // the CSV is made from the invoice shown, so the download and the table agree; its URL is freed
  // when the invoice changes or the page goes
  const csv = useMemo(() => {
    if (!data) return undefined;
    const url = URL.createObjectURL(new Blob([invoiceCsv(data.invoice)], { type: 'text/csv;charset=utf-8' }));
    return { url, name: csvFileName(data.invoice) };
  }, [data?.invoice]);
  useEffect(() => () => {
    if (csv) URL.revokeObjectURL(csv.url);
  }, [csv]);

  const isThisMonth = month === monthOf(now);
  // a budget's spend, state and forecast are the current month's: shown with this month only
  const budget = isThisMonth ? data?.budgets.find((b) => b.project === project) : undefined;
  const byService = data ? amountsByService(data.invoice) : [];

  return (
    <section aria-labelledby="page-title">
      <div class="heading">
        <h1 id="page-title">Usage and billing</h1>
        <button type="button" onClick={() => void load()} disabled={loading} aria-busy={loading ? 'true' : undefined}>{loading ? 'Refreshing…' : 'Refresh'}</button>
      </div>
      <div class="toolbar">
        {who === ALL && (
          <div class="field">
            <label for="usage-project">Project</label>
            <select id="usage-project" value={project} onChange={(e) => setProject((e.currentTarget as HTMLSelectElement).value)}>
              <option value={ALL}>All projects</option>
              {projects.map((p) => <option value={p}>{p}</option>)}
            </select>
          </div>
        )}
        <div class="field">
          <label for="usage-month">Month (UTC)</label>
          <select id="usage-month" value={month} onChange={(e) => setMonth((e.currentTarget as HTMLSelectElement).value)}>
            {months.map((m) => <option value={m}>{m}</option>)}
          </select>
        </div>
      </div>
      <ErrorLine message={error} retry={() => void load()} />
      {!data && !error && <p class="muted" role="status">Loading…</p>}
      {data && (
        <>
          <p class="muted" role="status" aria-live="polite">{project === ALL ? 'Every project' : `Project ${project}`}, {month}</p>
          <div class="cards">
            <div class="card">
              <h2>{isThisMonth ? 'Spent this month' : `Spent in ${month}`}</h2>
              <p class="big" id="spend-total">{formatMoney(data.invoice.total, data.invoice.currency)}</p>
              <p class="muted">{isThisMonth ? 'so far, from the metered usage' : 'the month’s invoice'}</p>
            </div>
            <div class="card">
              <h2>Forecast</h2>
              <p class="big">{budget && isThisMonth ? budgetSummary(budget).forecast : '—'}</p>
              <p class="muted">{budget && isThisMonth ? 'spent + the current rate to the month’s end' : 'comes with a budget, for the current month'}</p>
            </div>
          </div>
          <h2>Budget</h2>
          <Budget budget={budget} project={project} thisMonth={isThisMonth} />

          <h2>Usage by service</h2>
          {data.byService.lines.length === 0 ? <p class="muted">No metered usage in {month}.</p> : (
            <UsageTable caption={`Usage by service in ${month}, most billed first`} first="Service" rows={serviceRows(data.byService)} />
          )}
          <h2>Usage by day</h2>
          {data.byDay.lines.length === 0 ? <p class="muted">No metered usage in {month}.</p> : (
            <UsageTable caption={`Usage by day in ${month}`} first="Day" rows={dayRows(data.byDay)} />
          )}

          <h2>Invoice {data.invoice.month}</h2>
          {csv && <a class="download" href={csv.url} download={csv.name}>Download the invoice as CSV ({csv.name})</a>}
          {byService.length > 0 && (
            <p class="muted">By service: {byService.map((s) => `${s.service} ${formatMoney(s.amount, data.invoice.currency)}`).join(' · ')}</p>
          )}
          {data.invoice.lines.length === 0 ? <p class="muted">Nothing billed in {month}.</p> : (
            <ListTable caption={`Invoice lines of ${data.invoice.month}`} columns={['Service', 'Item', 'Quantity', 'Unit price', 'Amount']} class="invoice">
              {data.invoice.lines.map((l) => (
                <tr key={`${l.project}/${l.service}/${l.item}`}>
                  <th scope="row" data-label="Service">{project === ALL ? `${l.project}/${l.service}` : l.service}</th>
                  <td data-label="Item"><span>{l.description}</span></td>
                  <td data-label="Quantity" class="num">{l.quantity} {l.unit}</td>
                  <td data-label="Unit price" class="num">{l.unitPrice}</td>
                  <td data-label="Amount" class="num">{l.amount}</td>
                </tr>
              ))}
            </ListTable>
          )}
          <p>Subtotal <code>{data.invoice.subtotal}</code> · <strong>Total {formatMoney(data.invoice.total, data.invoice.currency)}</strong></p>
        </>
      )}
    </section>
  );
}
