// A daemon stopping while an ACME order is under way: acme-client retries a CA that answers 5xx or
// not at all, waiting 5, 10, … 25 s between tries (75 s per request), on its one axios instance per
// process. Found when a test process sat for minutes after its daemon had stopped. Once the issuer
// is closed, the order under way sends nothing more and fails at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { acmeIssuer } from '../../src/daemon/acme-issuer.ts';
import { silentLogger } from '../../src/core/logger.ts';

test('a closed ACME issuer makes no further request: the order under way fails instead of retrying the CA', { timeout: 60_000 }, async (t) => {
  let requests = 0;
  let closedAt: number | undefined;
  let afterClose = 0;
  // a CA that is down for maintenance: every request a 503, which acme-client retries
  const ca = http.createServer((_req, res) => {
    requests++;
    if (closedAt !== undefined) afterClose++;
    res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"type":"urn:ietf:params:acme:error:serverInternal","detail":"down"}');
  });
  await new Promise<void>((resolve) => ca.listen(0, '127.0.0.1', resolve));
  t.after(() => ca.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-acme-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const issuer = acmeIssuer(
    { directoryUrl: `http://127.0.0.1:${(ca.address() as AddressInfo).port}/dir`, email: '', caFile: '' },
    dir,
    { set() {}, delete() {} },
    silentLogger,
  );
  const order = issuer.issue('example.com');
  const outcome = order.then(() => 'issued', (err: Error) => err.message);
  while (requests === 0) await new Promise((r) => setTimeout(r, 20));
  closedAt = Date.now();
  issuer.close!();
  // the retry acme-client had scheduled is refused before it is sent
  assert.match(await outcome, /issuer has stopped/);
  assert.equal(afterClose, 0, 'no request reached the CA after close');
  await assert.rejects(issuer.issue('example.org'), /issuer has stopped/);
});
