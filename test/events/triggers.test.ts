// Cron triggers end to end (docs/events.md): the compiled CLI against a daemon with real runc
// instances. A trigger firing every 2 s wakes a service at zero through the gateway with a binary
// CloudEvent; describe counts it; pause stops it; bad input is refused at `trigger add` with the field
// named; an endpoint that always fails fills the dead-letter store, which replay and purge empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiffOk as ok, skiffFails as fails } from '../helpers/cli.ts';
import { until } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : false;

test('cron triggers: a real-time fire wakes a service with a CloudEvent; describe, pause, rm; bad input; dead letters, replay, purge', { skip, timeout: 180_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushHttpdImage(d, uniqueRepo('cron'), 'v1');
  await ok(d, ['deploy', 'report', '--image', image.reference, '--no-wait']);

  await t.test('bad input is refused at add time, naming the field', async () => {
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--cron', '61 * * * *'], /^skiff: error BAD_REQUEST: cron: "61 \* \* \* \*" is not a cron schedule/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--cron', '0 3 * * *', '--tz', 'Mars/Olympus'], /^skiff: error BAD_REQUEST: timezone: "Mars\/Olympus"/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'nope', '--cron', '0 3 * * *'], /^skiff: error NOT_FOUND: service: no service named nope/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report'], /^skiff: error USAGE: trigger add: give a source/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--cron', '0 3 * * *', '--backoff', 'soon'], /^skiff: error BAD_REQUEST: .*backoff/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--cron', '0 3 * * *', '--concurrency-policy', 'sometimes'], /error USAGE: .*--concurrency-policy/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--cron', '0 3 * * *', '--ordered-by', 'subject'], /^skiff: error BAD_REQUEST: orderedBy: only for JetStream, RabbitMQ and Redis Streams triggers/m);
    await fails(d, ['trigger', 'add', 'x', '--service', 'report', '--nats', 'nats://127.0.0.1:1', '--subject', 'a', '--ordered-by', 'json:a'], /^skiff: error BAD_REQUEST: orderedBy: expected subject, header:NAME or json:\$\.field/m);
    assert.deepEqual((await client.listTriggers()).triggers, [], 'nothing was stored');
  });

  await t.test('every 2 s: the service is woken from zero and gets a binary CloudEvent', async () => {
    const added = await ok(d, ['trigger', 'add', 'tick', '--service', 'report', '--cron', '*/2 * * * * *', '--path', '/cgi-bin/record', '--body', '{"n":1}']);
    assert.match(added, /^added {5}tick → report, next fire \d{4}-\d\d-\d\dT/m);
    await fails(d, ['trigger', 'add', 'tick', '--service', 'report', '--cron', '0 3 * * *'], /^skiff: error CONFLICT: a trigger named tick exists/m);
    await until('two deliveries', async () => (await client.trigger('tick')).stats.successes >= 2, 30_000);
    const logs = await ok(d, ['logs', 'report']);
    const record = /stderr record POST (HTTP_CE_ID=tick-(\d+) HTTP_CE_SOURCE=\/skiff\/triggers\/tick HTTP_CE_SPECVERSION=1\.0 HTTP_CE_SUBJECT=tick HTTP_CE_TIME=(\S+) HTTP_CE_TYPE=dev\.skiff\.cron\.fired) type=application\/json body=\{"n":1\}$/m.exec(logs);
    assert.ok(record, `a CloudEvent in the service's log:\n${logs}`);
    assert.equal(new Date(Number(record[2])).toISOString(), record[3], 'ce-time is the scheduled instant the id names');
    assert.equal(Number(record[2]) % 2000, 0, 'on the schedule');
    const described = await ok(d, ['trigger', 'describe', 'tick']);
    assert.match(described, /^schedule  \*\/2 \* \* \* \* \* \(UTC\), concurrency allow, missed fires skip$/m);
    assert.match(described, /^counters  \d+ delivered \(\d+ succeeded\), 0 failed attempts/m);
    assert.match(await ok(d, ['trigger', 'ls']), /^tick\s+report\s+\*\/2 \* \* \* \* \* UTC\s+\S+\s+\d+\s+0\s+0$/m);

    await ok(d, ['trigger', 'pause', 'tick']);
    const paused = (await client.trigger('tick')).stats.deliveries;
    await new Promise((r) => setTimeout(r, 4500));
    const after = await client.trigger('tick');
    assert.ok(after.stats.deliveries <= paused + 1, 'at most the fire under way when paused');
    assert.equal(after.paused, true);
    assert.equal(after.nextFireAt, undefined);
    // the service a trigger feeds is not removed under it
    await fails(d, ['rm', 'report'], /^skiff: error CONFLICT: service report: trigger tick delivers to it: remove it first \(skiff trigger rm tick\)$/m);
    await ok(d, ['trigger', 'rm', 'tick']);
    await fails(d, ['trigger', 'describe', 'tick'], /^skiff: error NOT_FOUND: no trigger named tick/m);
  });

  await t.test('an endpoint that always fails: dead letters after max attempts; dlq ls, replay, purge', async () => {
    await ok(d, ['trigger', 'add', 'failing', '--service', 'report', '--cron', '* * * * * *', '--path', '/cgi-bin/flaky?100000', '--max-attempts', '2', '--backoff', '200ms', '--concurrency-policy', 'forbid']);
    await until('a dead letter', async () => (await client.trigger('failing')).stats.deadLetters >= 1, 30_000);
    await ok(d, ['trigger', 'pause', 'failing']);
    await until('nothing in flight', async () => (await client.trigger('failing')).stats.backlog === 0, 20_000);
    const v = await client.trigger('failing');
    assert.ok(v.stats.failures >= 2 * v.stats.deadLettered && v.stats.retries >= v.stats.deadLettered, JSON.stringify(v.stats));
    assert.match(v.stats.lastErrors.at(-1)!.message, /HTTP 500 \(attempt 2 of 2\)/);
    const listed = await ok(d, ['dlq', 'ls', 'failing']);
    const ids = [...listed.matchAll(/^(dl-[0-9a-f]{32}) /gm)].map((m) => m[1]!);
    assert.equal(ids.length, v.stats.deadLetters);
    assert.match(listed, /2 attempts {2}POST \/cgi-bin\/flaky\?100000 {2}the service answered HTTP 500 \(attempt 2 of 2\)$/m);
    await fails(d, ['dlq', 'replay', 'failing', '--all', '--id', 'x'], /^skiff: error USAGE: dlq replay: give --id or --all, not both/m);
    assert.match(await ok(d, ['dlq', 'replay', 'failing', '--id', ids[0]!]), /^replayed  1 dead letter\(s\)$/m);
    await until('the replayed one dead-lettered again', async () => (await client.trigger('failing')).stats.deadLetters === ids.length, 20_000);
    const now = [...(await ok(d, ['dlq', 'ls', 'failing'])).matchAll(/^(dl-[0-9a-f]{32}) /gm)].map((m) => m[1]!);
    assert.match(await ok(d, ['dlq', 'purge', 'failing', '--id', now[0]!]), /^purged {4}1 dead letter\(s\)$/m);
    assert.match(await ok(d, ['dlq', 'purge']), new RegExp(`^purged    ${ids.length - 1} dead letter\\(s\\) of every trigger$`, 'm'));
    assert.match(await ok(d, ['dlq', 'ls', 'failing']), /\(no dead letters for failing\)/);
  });
});
