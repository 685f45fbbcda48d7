// cli/budget: `skiff budget set --project P --monthly 50.00 [--soft 80%]... [--action notify|cap|stop]
// [--webhook URL]`, `skiff budget [--project P]` (budget, spent so far, current rate, forecast to month
// end, state, what is enforced) and `skiff budget rm --project P` (docs/projects.md, "Budgets").
// Setting and removing takes the operator's token; a project's own token reads its budget. Money is
// decimal text from and to the API: nothing here does arithmetic on it.
import type { Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import type { BudgetStatus } from '../core/budgets.ts';

const collect = (v: string, all: string[] = []) => [...all, v];

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function budgetTable(list: BudgetStatus[]): string {
  if (list.length === 0) return 'no budget (skiff budget set --project P --monthly 50.00)';
  const rows = [['PROJECT', 'MONTH', 'BUDGET', 'SPENT', 'RATE/H', 'FORECAST', 'STATE', 'ACTION', 'ENFORCED', 'SOFT']];
  for (const b of list) {
    rows.push([b.project, b.month, `${b.monthly} ${b.currency}`, b.spent, b.ratePerHour, b.forecast, b.state, b.action, b.enforced === 'cap' ? `cap at ${b.cappedAt ?? 0}` : b.enforced, b.soft.map((s) => `${s}%`).join(',') || '-']);
  }
  return pad(rows);
}

/** The command's own --project, else `skiff budget`'s or the global one (commander gives a flag to the
 *  first command along the line that knows it). */
function projectOf(program: Command, own: string | undefined, required: boolean): string | undefined {
  const p = own ?? program.commands.find((c) => c.name() === 'budget')?.opts<{ project?: string }>().project ?? program.opts<{ project?: string }>().project;
  if (required && p === undefined) throw new SkiffError('USAGE', '--project is required: the project whose budget this is');
  return p;
}

export function registerBudget(program: Command): void {
  const budget = withOutput(
    program
      .command('budget')
      .description('monthly budgets: spent so far, current rate, forecast to month end, and what happens once spent (docs/projects.md)')
      .option('--project <project>', 'one project (default: every budget the token may see)'),
  ).action(async (o: OutputFlags & { project?: string }) => {
    const client = clientFrom(program);
    const project = projectOf(program, o.project, false);
    const list = project !== undefined ? [await client.getBudget(project)] : (await client.listBudgets()).budgets;
    await print(o, project !== undefined ? list[0] : { budgets: list }, () => budgetTable(list));
  });

  withOutput(
    budget
      .command('set')
      .description('set a project\'s monthly budget (operator): soft thresholds tell (event, webhook); once spent, cap starts no instance beyond those running, stop scales to zero and answers 402')
      .option('--project <project>', 'the project')
      .requiredOption('--monthly <amount>', 'the monthly budget, decimal, in the price sheet\'s currency (e.g. 50.00)')
      .option('--soft <percent>', 'a soft threshold, e.g. 80% (repeatable)', collect)
      .option('--action <notify|cap|stop>', 'what happens once the budget is spent', 'notify')
      .option('--webhook <url>', 'POSTed to (JSON) when a threshold is crossed or the budget is spent'),
  ).action(async (o: OutputFlags & { project?: string; monthly: string; soft?: string[]; action: string; webhook?: string }) => {
    if (!['notify', 'cap', 'stop'].includes(o.action)) throw new SkiffError('USAGE', `--action: expected notify, cap or stop, got ${JSON.stringify(o.action)}`);
    const project = projectOf(program, o.project, true)!;
    const b = await clientFrom(program).setBudget(project, { monthly: o.monthly, ...(o.soft ? { soft: o.soft } : {}), action: o.action as 'notify' | 'cap' | 'stop', ...(o.webhook !== undefined ? { webhook: o.webhook } : {}) });
    await print(o, b, () => budgetTable([b]));
  });

  budget
    .command('rm')
    .description('remove a project\'s budget (operator); a cap or stop it enforced is lifted')
    .option('--project <project>', 'the project')
    .action(async (o: { project?: string }) => {
      const project = projectOf(program, o.project, true)!;
      await clientFrom(program).deleteBudget(project);
      process.stdout.write(`budget of ${project} removed\n`);
    });
}
