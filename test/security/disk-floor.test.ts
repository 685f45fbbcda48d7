// Finding 4's second half: below the data dir's free-space floor (setting minFreeBytes) Skiff writes
// nothing more there — a blob upload, an image unpack and a new instance are refused with 507
// INSUFFICIENT_STORAGE naming the setting, and nothing is recorded. The floor is set above this
// machine's free space, so the refusal is real (statfs of the data dir), not simulated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { SkiffError } from '../../src/core/errors.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;
const ABOVE_ANY_DISK = Number.MAX_SAFE_INTEGER;

test('below the free-space floor: uploads, unpacks and new instances get 507 INSUFFICIENT_STORAGE, and nothing is recorded', { skip }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-floor-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startTestDaemon(t, { dataDir });
  const repo = uniqueRepo('floor');
  const image = await pushHttpdImage(first, repo, 'v1');
  await first.daemon.stop();

  const d = await startTestDaemon(t, { dataDir, settings: (s) => (s.minFreeBytes = ABOVE_ANY_DISK) });
  const auth = { authorization: `Bearer ${d.token}` };
  const upload = await fetch(`${d.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
  assert.equal(upload.status, 507);
  const body = (await upload.json()) as { errors: Array<{ code: string; message: string }> };
  assert.equal(body.errors[0]!.code, 'INSUFFICIENT_STORAGE');
  assert.match(body.errors[0]!.message, /minFreeBytes/);

  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  await assert.rejects(client.deploy({ name: 'floored', image: image.reference }), (err: unknown) => err instanceof SkiffError && err.code === 'INSUFFICIENT_STORAGE' && /minFreeBytes/.test(err.message));
  assert.deepEqual((await client.listServices()).services, [], 'the refused deploy recorded nothing');
  const run = await client.run({ image: image.reference, command: ['true'] }, () => {}).then(() => 'ran', (err: unknown) => (err as SkiffError).code);
  assert.equal(run, 'INSUFFICIENT_STORAGE');
});
