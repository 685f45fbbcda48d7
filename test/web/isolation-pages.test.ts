// Projects in the dashboard: a project-B token signed into the dashboard sees nothing of project A —
// not its service, trigger, job, volume, secret, budget or registry repository — on any page, in the
// page's text or in any answer of the API the page calls; a link straight to A's repository answers as
// a repository that does not exist. B's own resources show, so the pages are not simply empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Response } from 'playwright-core';
import { startTestDaemon } from '../helpers/daemon.ts';
import { openBrowser, requireChromium } from '../helpers/browser.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = requireChromium() ?? (!isRoot && !isCI ? 'needs root (loop volumes)' : false);

/** A's names: none may reach B's browser */
const A_NAMES = ['a-web', 'a-cron', 'a-job', 'a-vol', 'a-secret', 'team-a', 'a-deployer'];
const PAGES: Array<[hash: string, title: string, mine: string | undefined]> = [
  ['#/services', 'Services', 'b-web'],
  ['#/triggers', 'Triggers', 'b-cron'],
  ['#/jobs', 'Jobs', undefined],
  ['#/domains', 'Domains', undefined],
  ['#/volumes', 'Volumes', 'b-vol'],
  ['#/secrets', 'Secrets', 'b-secret'],
  ['#/registry', 'Registry', 'team-b/tool'],
  ['#/usage', 'Usage and billing', undefined],
];

test('a project-B session sees none of project A anywhere in the dashboard', { skip, timeout: 300_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });
  await operator.createProject('team-a');
  await operator.createProject('team-b');
  const asA = new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-a' });
  const asB = new SkiffClient({ baseUrl: d.url, token: d.token, project: 'team-b' });
  await operator.createToken('a-deployer', 'deploy', 'team-a');
  const bToken = (await operator.createToken('b-deployer', 'deploy', 'team-b')).secret;

  const a = await pushHttpdImage(d, 'team-a/app', 'v1', 'a');
  await asA.deploy({ name: 'a-web', image: a.reference });
  await asA.addTrigger({ name: 'a-cron', service: 'a-web', cron: '0 0 1 1 *' });
  await asA.createJob({ name: 'a-job', image: a.reference, command: ['/bin/true'] });
  await asA.createVolume({ name: 'a-vol', size: '8Mi' });
  await asA.setSecret('a-secret', { data: { K: 'a-value' } });
  await operator.setBudget('team-a', { monthly: '50.00', soft: ['80%'] });

  const b = await pushHttpdImage(d, 'team-b/tool', 'v1', 'b');
  await asB.deploy({ name: 'b-web', image: b.reference });
  await asB.addTrigger({ name: 'b-cron', service: 'b-web', cron: '0 0 1 1 *' });
  await asB.createVolume({ name: 'b-vol', size: '8Mi' });
  await asB.setSecret('b-secret', { data: { K: 'b-value' } });

  const session = await openBrowser(t, { prefix: 'isolation' });
  const page = session.page;
  const answers: Array<{ url: string; status: number; text: string }> = [];
  page.on('response', (r: Response) => {
    if (r.url().includes('/api/v1/') && !r.url().includes('/api/v1/stream')) void r.text().then((text) => answers.push({ url: r.url(), status: r.status(), text }), () => {});
  });
  await page.goto(`${d.url}/`);
  await page.getByLabel('API token').fill(bToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();

  for (const [hash, title, mine] of PAGES) {
    await page.goto(`${d.url}/${hash}`);
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    // the page has read its data: B's own resource shows, or the page's count/status says it is done
    if (mine) await page.locator('main').getByText(mine).first().waitFor();
    else await page.locator('main [role="status"]').filter({ hasNotText: 'Loading…' }).first().waitFor();
    const text = await page.locator('body').innerText();
    for (const name of A_NAMES) assert.ok(!text.includes(name), `${hash} shows ${name}: ${text}`);
    await session.screenshot(hash.slice(2));
  }
  // no picker of projects for a project's token: its usage is its own
  assert.equal(await page.getByLabel('Project').count(), 0);
  assert.match(await page.locator('main').innerText(), /Project team-b/);

  // a link straight to A's repository: as a repository that does not exist, nothing of it shown
  await page.goto(`${d.url}/#/registry/team-a/app`);
  await page.getByRole('alert').filter({ hasText: 'No repository team-a/app' }).waitFor();
  assert.equal(await page.locator('main table').count(), 0);
  assert.ok(!(await page.content()).includes(a.digest));
  await session.screenshot('registry-theirs');

  // every API answer the pages got: none names A's resources (the deep link's 404 repeats only the
  // name it asked for, exactly as for a repository nobody has)
  await page.waitForTimeout(300);
  assert.ok(answers.length >= PAGES.length, `${answers.length} answers seen`);
  for (const ans of answers) {
    const asked = decodeURIComponent(new URL(ans.url).pathname);
    const text = ans.text.replaceAll('team-a/app', asked.includes('team-a/app') ? '' : 'team-a/app');
    for (const name of A_NAMES) assert.ok(!text.includes(name), `${ans.url} answered ${ans.status} naming ${name}: ${ans.text.slice(0, 300)}`);
    assert.ok(!ans.text.includes(a.digest), `${ans.url} answered A's digest`);
  }
  const theirs = answers.find((x) => x.url.includes('team-a%2Fapp'))!;
  assert.equal(theirs.status, 404);
  const nobody = await fetch(`${d.url}/api/v1/registry/repositories/team-a%2Fnobody`, { headers: { authorization: `Bearer ${bToken}` } });
  assert.equal(nobody.status, 404);
  assert.equal(JSON.parse(theirs.text).error.code, ((await nobody.json()) as { error: { code: string } }).error.code);
});
