// `skiff budget` end to end (the built CLI against a daemon; no instance needed: nothing is spent):
// set (operator only) with repeated --soft, the table and -o json of one project or every budget,
// bad money refused with the API's message, a project token reading its own budget but not setting
// one, rm and the NOT_FOUND after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { skiff } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';
import type { BudgetStatus } from '../../src/core/budgets.ts';

test('skiff budget set | (table, -o json) | rm', { timeout: 90_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  await admin.createProject('team-x');
  const run = async (args: string[], token = d.token) => {
    const r = await skiff(d, args, token);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}:\n${r.stderr}`);
    return r.stdout;
  };

  const set = await run(['budget', 'set', '--project', 'team-x', '--monthly', '50.00', '--soft', '80%', '--soft', '95%', '--action', 'cap', '--webhook', 'http://127.0.0.1:9/hook']);
  assert.match(set, /^PROJECT\s+MONTH\s+BUDGET\s+SPENT\s+RATE\/H\s+FORECAST\s+STATE\s+ACTION\s+ENFORCED\s+SOFT$/m);
  assert.match(set, /^team-x\s+\d{4}-\d{2}\s+50\.00 USD\s+0\.00\s+0\.0000\s+0\.00\s+ok\s+cap\s+none\s+80%,95%$/m);

  const one = JSON.parse(await run(['budget', '--project', 'team-x', '-o', 'json'])) as BudgetStatus;
  assert.deepEqual({ ...one, month: 'M' }, { project: 'team-x', month: 'M', currency: 'USD', monthly: '50.00', soft: ['80', '95'], action: 'cap', webhook: 'http://127.0.0.1:9/hook', spent: '0.00', ratePerHour: '0.0000', forecast: '0.00', state: 'ok', enforced: 'none' });
  const all = JSON.parse(await run(['budget', '--json'])) as { budgets: BudgetStatus[] };
  assert.deepEqual(all.budgets.map((b) => b.project), ['team-x']);
  assert.match(await run(['budget']), /^team-x\s/m);

  const bad = await skiff(d, ['budget', 'set', '--project', 'team-x', '--monthly', '50,00']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /expected a positive decimal amount such as 50\.00/);
  const noProject = await skiff(d, ['budget', 'set', '--monthly', '5']);
  assert.notEqual(noProject.code, 0);
  assert.match(noProject.stderr, /--project is required/);

  // a project's deploy token reads its budget, may not set one
  const { secret } = await admin.createToken('x-ci', 'deploy', 'team-x');
  const own = JSON.parse(await run(['budget', '--json'], secret)) as { budgets: BudgetStatus[] };
  assert.deepEqual(own.budgets.map((b) => b.project), ['team-x']);
  const denied = await skiff(d, ['budget', 'set', '--project', 'team-x', '--monthly', '500'], secret);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /DENIED|permission|not allowed/i);

  assert.match(await run(['budget', 'rm', '--project', 'team-x']), /budget of team-x removed/);
  const gone = await skiff(d, ['budget', '--project', 'team-x']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /team-x has no budget/);
  assert.deepEqual((JSON.parse(await run(['budget', '--json'])) as { budgets: unknown[] }).budgets, []);
});
