// Secrets end to end, with the compiled CLI against a daemon running real runc instances: a secret set
// from an .env file, a file and an argument, used by a service three ways (every key as env, one key as
// env, every key as a file); the instance sees the values; a new version does not change the running
// revision until a redeploy; unknown secrets and keys are refused with nothing stored; another tenant
// sees none of it; and a planted value appears in no CLI output, API body, log line or event, nor in
// clear in any file of the data dir on disk (the SQLite file included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, type CliResult } from '../helpers/cli.ts';
import { gatewayGet, until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
/** statfs f_type of memory file systems and overlay (whose upper layer is the instance's tmpfs) */
const NOT_ON_DISK = new Set([0x01021994, 0x858458f6, 0x794c7630]);

/** every regular file under `dir` on persistent disk; files of tmpfs and overlay mounts go to `skipped` */
function diskFiles(dir: string, skipped: string[] = []): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      if (NOT_ON_DISK.has(Number(statfsSync(p).type))) skipped.push(p);
      else out.push(...diskFiles(p, skipped));
    } else if (st.isFile()) out.push(p);
  }
  return out;
}

test('secrets: set, use three ways, pinned versions, tenants, and a planted value never shown nor at rest in clear', { skip, timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-secrets-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const logFile = path.join(work, 'daemon.log');
  const previousLog = process.env.SKIFF_TEST_LOG_FILE;
  process.env.SKIFF_TEST_LOG_FILE = logFile;
  let d: TestDaemon;
  try {
    d = await startTestDaemon(t);
  } finally {
    if (previousLog === undefined) delete process.env.SKIFF_TEST_LOG_FILE;
    else process.env.SKIFF_TEST_LOG_FILE = previousLog;
  }
  const planted = `PLANTED-${randomBytes(8).toString('hex')}`;
  const planted2 = `PLANTED-${randomBytes(8).toString('hex')}`;
  const plantedFile = `PLANTED-${randomBytes(8).toString('hex')}`;
  const plantedArg = `PLANTED-${randomBytes(8).toString('hex')}`;
  const all = [planted, planted2, plantedFile, plantedArg];
  const seen: Array<{ what: string; text: string }> = [];
  const cli = async (args: string[], token?: string): Promise<CliResult> => {
    const r = await skiff(d, args, token);
    seen.push({ what: `skiff ${args.join(' ')}`, text: r.stdout + r.stderr });
    return r;
  };
  const ok = async (args: string[], token?: string) => {
    const r = await cli(args, token);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const fails = async (args: string[], code: RegExp, token?: string) => {
    const r = await cli(args, token);
    assert.equal(r.code, 1, `skiff ${args.join(' ')} should fail:\n${r.stdout}`);
    assert.match(r.stderr, code);
    return r.stderr;
  };
  const api = async (p: string, token = d.token) => {
    const res = await fetch(d.url + p, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    seen.push({ what: `GET ${p}`, text });
    return { status: res.status, text };
  };

  writeFileSync(path.join(work, 'app.env'), `# the app's settings\nexport DB_PASSWORD="${planted}"\nDB_USER=app\n`);
  writeFileSync(path.join(work, 'cert.pem'), `${plantedFile}\n`);
  const set1 = await ok(['secret', 'set', 'db', `API_KEY=${plantedArg}`, '--from-env-file', path.join(work, 'app.env'), '--from-file', `cert=${path.join(work, 'cert.pem')}`]);
  assert.match(set1, /^secret db version 1, keys API_KEY, DB_PASSWORD, DB_USER, cert$/m);
  await fails(['secret', 'set', 'db', plantedArg], /USAGE|BAD_REQUEST/); // a value without its key: not echoed back
  assert.match(await ok(['secret', 'ls']), /^db\s+1\s+API_KEY,DB_PASSWORD,DB_USER,cert\s/m);

  const repo = uniqueRepo('secrets');
  const v1 = await pushHttpdImage(d, repo, 'v1');
  // unknown secrets and keys: refused naming the flag, with a stable code, and nothing stored
  const unknownKey = await fails(['deploy', 'web', '--image', v1.reference, '--secret-env', 'PW=db:PASSWORD'], /^skiff: error SECRET_UNKNOWN: secrets\.env\.PW \(--secret-env PW=db:PASSWORD\): secret db version 1 has no key PASSWORD \(it has: API_KEY, DB_PASSWORD, DB_USER, cert\)/m);
  assert.ok(!unknownKey.includes(planted));
  await fails(['deploy', 'web', '--image', v1.reference, '--env-from-secret', 'nope'], /SECRET_UNKNOWN: secrets\.envFrom\[0\] \(--env-from-secret nope\): there is no secret nope/);
  await fails(['deploy', 'web', '--image', v1.reference, '--secret-mount', 'db@7:/run/secrets'], /SECRET_UNKNOWN: .*--secret-mount db@7:\/run\/secrets.*has no version 7 \(the latest is 1\)/);
  await fails(['deploy', 'web', '--image', v1.reference, '--secret-mount', 'db:/proc/x'], /BAD_REQUEST: .*not under \/proc/);
  assert.equal((await new SkiffClient({ baseUrl: d.url, token: d.token }).listServices()).services.length, 0, 'nothing stored');

  // three ways at once
  const out = await ok(['deploy', 'web', '--image', v1.reference, '--min', '1', '--env-from-secret', 'db', '--secret-env', 'PW=db:DB_PASSWORD', '--secret-mount', 'db:/run/secrets']);
  const rev1 = /^revision\s+(\S+)/m.exec(out)![1]!;
  const env1 = (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/env')).body;
  assert.match(env1, new RegExp(`^DB_PASSWORD=${planted}$`, 'm'));
  assert.match(env1, new RegExp(`^PW=${planted}$`, 'm'));
  assert.match(env1, new RegExp(`^API_KEY=${plantedArg}$`, 'm'));
  assert.match(env1, /^DB_USER=app$/m);
  const files = (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/files?/run/secrets')).body;
  assert.match(files, new RegExp(`^/run/secrets/DB_PASSWORD 400 1000 ${planted}$`, 'm'), 'each key a file, 0400, owned by the instance\'s user (www)');
  assert.match(files, new RegExp(`^/run/secrets/cert 400 1000 ${plantedFile}$`, 'm'));
  assert.match(files, /^read-only$/m);
  assert.match(await ok(['describe', 'web']), /^\s+secrets env from db@1, PW=db@1:DB_PASSWORD, \/run\/secrets ← db@1$/m);

  // a new version leaves the running revision as it is, until a redeploy
  assert.match(await ok(['secret', 'set', 'db', `DB_PASSWORD=${planted2}`, '--merge']), /^secret db version 2, keys API_KEY, DB_PASSWORD, DB_USER, cert$/m);
  assert.match((await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/env')).body, new RegExp(`^PW=${planted}$`, 'm'));
  const describe1 = await ok(['secret', 'describe', 'db']);
  assert.match(describe1, new RegExp(`^  ${rev1}\\s+version 1$`, 'm'));
  const out2 = await ok(['update', 'web', '--env', 'REDEPLOY=1']);
  const rev2 = /^revision\s+(\S+)/m.exec(out2)![1]!;
  await until('the new revision serves', async () => (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/env')).body.includes('REDEPLOY=1'), 60_000);
  const env2 = (await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/env')).body;
  assert.match(env2, new RegExp(`^PW=${planted2}$`, 'm'));
  assert.match((await gatewayGet(d.gatewayUrl, 'web', '/cgi-bin/files?/run/secrets')).body, new RegExp(`^/run/secrets/DB_PASSWORD 400 1000 ${planted2}$`, 'm'));
  assert.match(await ok(['secret', 'describe', 'db']), new RegExp(`^  ${rev2}\\s+version 2$`, 'm'));
  await fails(['secret', 'rm', 'db'], new RegExp(`CONFLICT: secret db is used by ${rev2} \\(web, version 2\\)`));

  // roles and tenants
  const admin = new SkiffClient({ baseUrl: d.url, token: d.token });
  const deployer = (await admin.createToken('ci', 'deploy')).secret;
  await fails(['secret', 'set', 'db', 'A=b'], /DENIED: a deploy token may not do this: it needs secrets:write/, deployer);
  assert.match(await ok(['secret', 'ls'], deployer), /^db\s+2\s/m);
  await admin.createProject('other');
  const other = (await admin.createToken('other-admin', 'admin', 'other')).secret;
  assert.equal((await ok(['secret', 'ls', '-o', 'json'], other)).trim(), JSON.stringify({ secrets: [] }, null, 2));
  await fails(['secret', 'describe', 'db'], /NOT_FOUND: no secret named db/, other);
  await fails(['secret', 'rm', 'db'], /NOT_FOUND/, other);
  await fails(['deploy', 'theirs', '--image', v1.reference, '--env-from-secret', 'db'], /SECRET_UNKNOWN: .*there is no secret db/, other);
  await ok(['secret', 'set', 'db', 'OTHER=1'], other);
  assert.match(await ok(['secret', 'ls'], d.token), /^db\s+2\s+API_KEY,DB_PASSWORD,DB_USER,cert\s/m, 'their db is theirs; ours is untouched');

  // everything a user or a script can read back
  await ok(['secret', 'ls', '-o', 'yaml']);
  await ok(['secret', 'describe', 'db', '-o', 'json']);
  await ok(['describe', 'web', '-o', 'json']);
  await ok(['ls']);
  await ok(['logs', 'web']);
  for (const p of ['/api/v1/secrets', '/api/v1/secrets/db', '/api/v1/services', '/api/v1/services/web', '/api/v1/services/web/logs', '/api/openapi.json']) assert.equal((await api(p)).status, 200, p);
  const events = (JSON.parse((await api('/api/v1/services/web')).text) as { events: Array<{ message: string }> }).events;
  assert.ok(events.length > 0);
  seen.push({ what: 'events', text: JSON.stringify(events) });
  for (const s of seen) for (const v of all) assert.ok(!s.text.includes(v), `${s.what} printed a secret value:\n${s.text}`);

  // the daemon's log (debug level), after pino's asynchronous writes landed
  await new Promise((r) => setTimeout(r, 500));
  const log = readFileSync(logFile, 'utf8');
  assert.ok(log.length > 0);
  for (const v of all) assert.ok(!log.includes(v), 'the daemon log holds a secret value');

  // at rest: every file of the data dir on disk, while the instances run (their bundles included)
  const skipped: string[] = [];
  const onDisk = diskFiles(d.dataDir, skipped);
  assert.ok(onDisk.some((f) => f.endsWith('skiff.db')), 'the SQLite file is read');
  assert.ok(onDisk.some((f) => f.endsWith('state.json')), 'runc state is read');
  for (const f of onDisk) {
    const bytes = readFileSync(f);
    for (const v of all) assert.ok(!bytes.includes(Buffer.from(v)), `${f} holds a secret value in clear text`);
  }
  // what was skipped is memory: the instances' tmpfs and overlay mounts, and the secrets are there
  assert.ok(skipped.length > 0 && skipped.every((p) => /\/instances\/[^/]+\/(rw|rootfs)$/.test(p)), skipped.join('\n'));
  assert.ok(skipped.some((p) => {
    try {
      return readdirSync(path.join(p, 'private')).some((dir) => dir.startsWith('secret-') && readFileSync(path.join(p, 'private', dir, 'DB_PASSWORD'), 'utf8') === planted2);
    } catch {
      return false;
    }
  }), 'the walk skipped the tmpfs holding the secret files, not the disk');

  // once the daemon stopped and its instances are gone, nothing is left anywhere under the data dir
  await d.daemon.stop();
  await d.daemon.stopInstances();
  const left: string[] = [];
  for (const f of diskFiles(d.dataDir, left)) for (const v of all) assert.ok(!readFileSync(f).includes(Buffer.from(v)), `${f} holds a secret value after the instances went`);
  assert.deepEqual(left, []);
});
