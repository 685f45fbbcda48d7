// cli/usage: `skiff usage` (metered usage by hour, day or service; a table, --json or --csv) and
// `skiff bill --month YYYY-MM` (the month's invoice). Every number comes from the API as decimal text
// and is printed as it is: nothing here does arithmetic on money (docs/metering.md).
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import type { Invoice, UsageGrouping, UsageLine, UsageReport } from '../core/usage.ts';

const COLUMNS: Array<[string, (l: UsageLine) => string | number]> = [
  ['starting_s', (l) => l.startingSeconds],
  ['serving_s', (l) => l.servingSeconds],
  ['idle_s', (l) => l.idleSeconds],
  ['frozen_s', (l) => l.frozenSeconds],
  ['billable_s', (l) => l.billableSeconds],
  ['vcpu_s_alloc', (l) => l.vcpuSecondsAllocated],
  ['vcpu_s_used', (l) => l.vcpuSecondsUsed],
  ['gib_s_alloc', (l) => l.gibSecondsAllocated],
  ['gib_s_used', (l) => l.gibSecondsUsed],
  ['requests', (l) => l.requests],
  ['egress_bytes', (l) => l.egressBytes],
];

function keyColumns(by: UsageGrouping): Array<[string, (l: UsageLine) => string]> {
  return by === 'service' ? [['project', (l) => l.project ?? ''], ['service', (l) => l.service ?? '']] : [[by, (l) => l.period ?? '']];
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(r: UsageReport): string {
  const keys = keyColumns(r.by);
  const rows = [[...keys.map(([k]) => k), ...COLUMNS.map(([c]) => c)]];
  for (const l of r.lines) rows.push([...keys.map(([, f]) => f(l)), ...COLUMNS.map(([, f]) => String(f(l)))]);
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** Columns padded to their widest cell: the first `text` columns (and those in `alsoText`) to the left, numbers to the right. */
function table(rows: string[][], text = 1, alsoText: readonly number[] = []): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const left = (c: number) => c < text || alsoText.includes(c);
  return rows.map((r) => r.map((cell, c) => (left(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

function usageTable(r: UsageReport): string {
  const keys = keyColumns(r.by);
  const rows = [[...keys.map(([k]) => k.toUpperCase()), ...COLUMNS.map(([c]) => c.toUpperCase())]];
  for (const l of r.lines) rows.push([...keys.map(([, f]) => f(l)), ...COLUMNS.map(([, f]) => String(f(l)))]);
  rows.push([...keys.map((_, i) => (i === 0 ? 'TOTAL' : '')), ...COLUMNS.map(([, f]) => String(f(r.total)))]);
  return `project ${r.project}${r.service ? `, service ${r.service}` : ''}, ${r.since} to ${r.until}\n` + table(rows, keys.length);
}

function invoiceTable(inv: Invoice): string {
  const rows = [['PROJECT', 'SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'UNIT PRICE', 'AMOUNT']];
  for (const l of inv.lines) rows.push([l.project, l.service, l.description, l.quantity, l.unit, l.unitPrice, l.amount]);
  return `invoice ${inv.month}, project ${inv.project}, ${inv.currency}\n${table(rows, 3, [4])}\n\nsubtotal ${inv.subtotal}\ntotal    ${inv.total} ${inv.currency}`;
}

export function registerUsage(program: Command): void {
  withOutput(
    program
      .command('usage')
      .description('metered usage: instance-seconds by state, vCPU- and GiB-seconds allocated and used, requests, egress bytes (docs/metering.md)')
      .option('--project <project>', 'the project (a token spanning every project: all of them by default)')
      .option('--service <service>', 'one service')
      .option('--since <date>', 'from this date (YYYY-MM-DD, UTC) or ISO time; default: the start of this month')
      .option('--by <hour|day|service>', 'group by hour, day (UTC) or service', 'day')
      .option('--csv', 'CSV (RFC 4180) for spreadsheets'),
  ).action(async (o: OutputFlags & { project?: string; service?: string; since?: string; by: string; csv?: boolean }) => {
    if (!['hour', 'day', 'service'].includes(o.by)) throw new SkiffError('USAGE', `--by: expected hour, day or service, got ${JSON.stringify(o.by)}`);
    if (o.csv && (o.json || o.output !== 'table')) throw new SkiffError('USAGE', '--csv and --json (or -o) contradict each other: give one');
    // the global --project (SKIFF_PROJECT) when the command's own is not given
    o.project ??= program.opts<{ project?: string }>().project;
    const report = await clientFrom(program).usage({ by: o.by as UsageGrouping, ...(o.project !== undefined ? { project: o.project } : {}), ...(o.service !== undefined ? { service: o.service } : {}), ...(o.since !== undefined ? { since: o.since } : {}) });
    if (o.csv) return void process.stdout.write(usageCsv(report));
    await print(o, report, () => usageTable(report));
  });

  withOutput(
    program
      .command('bill')
      .description('the invoice of a month: a line per service and item, quantities, unit prices and amounts (the price sheet of metering.prices)')
      .requiredOption('--month <YYYY-MM>', 'the month, e.g. 2026-12 (UTC)')
      .option('--project <project>', 'the project (a token spanning every project: all of them by default)'),
  ).action(async (o: OutputFlags & { month: string; project?: string }) => {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(o.month)) throw new SkiffError('USAGE', `--month: expected YYYY-MM such as 2026-12, got ${JSON.stringify(o.month)}`);
    const inv = await clientFrom(program).bill(o.month, o.project ?? program.opts<{ project?: string }>().project);
    await print(o, inv, () => invoiceTable(inv));
  });
}
