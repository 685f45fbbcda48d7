// `skiff usage` and `skiff bill` end to end (the built CLI against a daemon metering a real instance):
// --json is the API's report, --csv one RFC 4180 row per group with a header, the table ends with a
// total; the bill lists lines with quantities, unit prices and amounts in decimal, and a total in cents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { gatewayGet } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import type { Invoice, UsageReport } from '../../src/core/usage.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const NAME = 'metered';

test('skiff usage --json | --csv | table, and skiff bill --month', { skip, timeout: 90_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const image = await pushHttpdImage(d, uniqueRepo('usage-cli'), 'v1');
  const deployed = await skiff(d, ['deploy', NAME, '--image', image.reference, '--min', '1', '--max', '1', '--billing', 'instance']);
  assert.equal(deployed.code, 0, deployed.stderr);
  for (let i = 0; i < 3; i++) assert.equal((await gatewayGet(d.gatewayUrl, NAME)).status, 200);
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const month = today.slice(0, 7);
  const run = async (args: string[]) => {
    const r = await skiff(d, args);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}:\n${r.stderr}`);
    return r.stdout;
  };

  const json = JSON.parse(await run(['usage', '--json', '--since', today])) as UsageReport;
  assert.equal(json.by, 'day');
  assert.equal(json.project, '*', 'the operator\'s token: every project');
  assert.deepEqual(json.lines.map((l) => l.period), [today]);
  assert.equal(json.total.requests, 3);
  assert.ok(Number(json.total.billableSeconds) > 0);

  const byService = JSON.parse(await run(['usage', '--json', '--by', 'service', '--service', NAME, '--project', 'default'])) as UsageReport;
  assert.deepEqual(byService.lines.map((l) => [l.project, l.service]), [['default', NAME]]);
  assert.equal(byService.project, 'default');

  const csv = await run(['usage', '--csv', '--by', 'hour']);
  const rows = csv.trimEnd().split('\r\n').map((r) => r.split(','));
  assert.deepEqual(rows[0], ['hour', 'starting_s', 'serving_s', 'idle_s', 'frozen_s', 'billable_s', 'vcpu_s_alloc', 'vcpu_s_used', 'gib_s_alloc', 'gib_s_used', 'requests', 'egress_bytes']);
  assert.ok(rows.length >= 2);
  assert.match(rows[1]![0]!, /^\d{4}-\d{2}-\d{2}T\d{2}:00Z$/);
  assert.equal(rows.slice(1).reduce((a, r) => a + Number(r[10]), 0), 3, 'requests');

  const table = await run(['usage', '--by', 'service']);
  assert.match(table, new RegExp(`^default\\s+${NAME}\\s`, 'm'));
  assert.match(table, /^TOTAL\s/m);

  const inv = JSON.parse(await run(['bill', '--month', month, '--json'])) as Invoice;
  assert.equal(inv.month, month);
  assert.equal(inv.currency, 'USD');
  const items = inv.lines.filter((l) => l.service === NAME).map((l) => l.item);
  assert.ok(items.includes('vcpu-seconds') && items.includes('gib-seconds') && items.includes('requests'), items.join(','));
  assert.ok(items.includes('idle-vcpu-seconds'), 'instance-based: idle time billed at the discount');
  for (const l of inv.lines) assert.match(l.amount, /^\d+(\.\d+)?$/);
  assert.match(inv.total, /^\d+\.\d{2}$/);
  const bill = await run(['bill', '--month', month]);
  assert.match(bill, /^total\s+\d+\.\d{2} USD$/m);
  assert.match(bill, /vCPU-seconds/);

  const bad = await skiff(d, ['bill', '--month', '2026-13']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--month: expected YYYY-MM/);
  const badBy = await skiff(d, ['usage', '--by', 'week']);
  assert.notEqual(badBy.code, 0);
  t.diagnostic(bill);
});
