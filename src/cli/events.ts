// cli/events: `skiff trigger add|ls|describe|pause|resume|rm`, `skiff dlq ls|replay|purge` and
// `skiff invoke` — the event side of Skiff (docs/events.md).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { clientFrom } from './context.ts';
import { print, withOutput, type OutputFlags } from './output.ts';
import { SkiffError } from '../core/errors.ts';
import type { InvokeBody, TriggerDocument, TriggerView } from '../core/events.ts';
import { collect, integer } from './flags.ts';

/** `@file` reads the file (`@-`: stdin), anything else is the text itself (as curl's --data). */
function dataOf(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('@')) return value;
  const file = value.slice(1);
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new SkiffError('BAD_REQUEST', `--data ${value}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

const line = (text: string) => process.stdout.write(text + '\n');

/** One line naming a trigger's source: its schedule, or its broker and what it reads there. */
export function sourceText(t: TriggerView): string {
  const src = t.source;
  switch (src.kind) {
    case 'cron':
      return `${src.schedule} ${src.timezone}`;
    case 'nats':
      return `${src.url} ${src.stream !== undefined ? `stream ${src.stream} consumer ${src.consumer}` : `subject ${src.subject}${src.queueGroup ? ` queue group ${src.queueGroup}` : ''}`}`;
    case 'amqp':
      return `${src.url} queue ${src.queue}${src.prefetch !== undefined ? ` prefetch ${src.prefetch}` : ''}`;
    case 'redis':
      return `${src.url} stream ${src.stream} group ${src.group}`;
    case 'mqtt':
      return `${src.url} topic ${src.topic} qos ${src.qos ?? 1}`;
  }
}

/** What a trigger feeds: `report` (a service) or `job report-batch`. */
export function targetText(t: TriggerView): string {
  return t.job !== undefined ? `job ${t.job}` : (t.service ?? '-');
}

export function triggerText(t: TriggerView): string {
  const s = t.stats;
  const src = t.source;
  const job = t.job !== undefined;
  return [
    `trigger   ${t.name}${t.paused ? '  (paused)' : ''}`,
    job ? `target    job ${t.job}: each fire starts an execution (skiff job describe ${t.job})` : `service   ${t.service}  ${t.target.method} ${t.target.path}`,
    src.kind === 'cron' ? `schedule  ${src.schedule} (${src.timezone}), concurrency ${src.concurrencyPolicy}, missed fires ${src.missed}` : `source    ${src.kind} ${sourceText(t)}`,
    ...(t.state ? [`state     ${t.state.status} since ${t.state.since}${t.state.error ? `: ${t.state.error}` : ''}${t.state.disconnects ? ` (${t.state.disconnects} disconnect${t.state.disconnects > 1 ? 's' : ''} since the daemon started)` : ''}`] : []),
    ...(t.nextFireAt ? [`next fire ${t.nextFireAt}`] : []),
    ...(s.lastFireAt ? [`last fire ${s.lastFireAt}`] : []),
    ...(job
      ? [
          `counters  ${s.deliveries} executions ended (${s.successes} succeeded), ${s.failures} failed (executions that did not succeed, fires that could not start one)`,
          `now       ${s.backlog} execution(s) running${s.executions?.length ? ` (${s.executions.join(', ')})` : ''}${s.lastExecution ? `, last started ${s.lastExecution}` : ''}`,
        ]
      : [
          `delivery  ${t.delivery.orderedBy ? `one after the other per ${t.delivery.orderedBy}, ` : ''}at most ${t.delivery.maxAttempts} attempts, back-off ${t.delivery.backoffMs / 1000}s doubling to ${t.delivery.maxBackoffMs / 1000}s, with jitter${t.delivery.deadLetter === 'broker' ? ", then dead-lettered by the broker" : ''}`,
          `counters  ${s.deliveries} delivered (${s.successes} succeeded), ${s.failures} failed attempts, ${s.retries} retries, ${s.deadLettered} dead-lettered`,
          `now       ${s.backlog} queued or in flight${s.brokerBacklog !== undefined ? `, ${s.brokerBacklog} waiting in the broker` : ''}, ${s.deadLetters} dead letters${s.deadLetters ? ` (skiff dlq ls ${t.name})` : ''}`,
        ]),
    ...(s.lastErrors.length ? ['last errors', ...s.lastErrors.map((e) => `  ${e.at}  ${e.message}`)] : []),
  ].join('\n');
}

export function registerEvents(program: Command): void {
  const trigger = program.command('trigger').description('triggers: events that wake a service (cron schedules, NATS, RabbitMQ, Redis Streams, MQTT), or cron schedules that start a job');
  trigger
    .command('add <name>')
    .description('add a trigger: each event reaches the service as an HTTP request carrying a CloudEvent (binary mode); with --job, each cron fire starts an execution of the job')
    .option('--service <name>', 'the service each event is sent to')
    .option('--job <name>', 'instead of --service, with --cron: each fire starts an execution of this job (as skiff job run)')
    .option('--cron <schedule>', 'a cron schedule: "0 3 * * *" (5 fields; 6 with seconds first)')
    .option('--nats <url>', 'a NATS server: nats://HOST:4222, with --subject [--queue-group] or --stream and --consumer (JetStream)')
    .option('--subject <subject>', 'NATS subject, wildcards allowed: orders.>')
    .option('--queue-group <group>', 'NATS queue group')
    .option('--stream <name>', 'JetStream stream (with --nats) or Redis stream (with --redis)')
    .option('--consumer <name>', 'JetStream durable consumer (explicit ack)')
    .option('--amqp <url>', 'a RabbitMQ server: amqp://USER:PASS@HOST:5672/vhost, with --queue')
    .option('--queue <name>', 'RabbitMQ queue (it must exist)')
    .option('--prefetch <n>', 'RabbitMQ: unacked messages at most (default: what the service can take at once)')
    .option('--redis <url>', 'a Redis server: redis://HOST:6379, with --stream and --group')
    .option('--group <name>', 'Redis consumer group (it must exist)')
    .option('--mqtt <url>', 'an MQTT broker: mqtt://HOST:1883, with --topic')
    .option('--topic <filter>', 'MQTT topic filter: sensors/#')
    .addOption(new Option('--qos <n>', 'MQTT QoS (default 1)').choices(['0', '1', '2']))
    .option('--tz <zone>', 'IANA time zone of the schedule, e.g. Europe/Paris (default UTC)')
    .option('--path <path>', 'request path (default /)')
    .option('--method <method>', 'request method (default POST)')
    .option('--body <data>', 'request body of each event (@file reads a file)')
    .option('--content-type <type>', 'media type of --body (default: application/json when it is JSON, else text/plain)')
    .addOption(new Option('--concurrency-policy <policy>', 'a fire due while the previous one is still delivered').choices(['allow', 'forbid', 'replace']))
    .addOption(new Option('--missed <policy>', 'fires missed while the daemon was down').choices(['skip', 'run-once']))
    .option('--max-attempts <n>', 'attempts per event before it is dead-lettered (default 5)')
    .addOption(new Option('--dead-letter <where>', "after the last attempt: Skiff's dead-letter store (default), or the broker's own (RabbitMQ: the queue's dead-letter exchange; JetStream: terminated, with an advisory)").choices(['skiff', 'broker']))
    .option('--backoff <duration>', 'delay before the first retry, doubling each time (default 1s)')
    .option('--max-backoff <duration>', 'longest delay between attempts (default 60s)')
    .option('--ordered-by <key>', 'JetStream, RabbitMQ, Redis: one key\'s events one after the other: subject, header:NAME or json:$.field')
    .action(async (name: string, o: { service?: string; job?: string; cron?: string; nats?: string; subject?: string; queueGroup?: string; stream?: string; consumer?: string; amqp?: string; queue?: string; prefetch?: string; redis?: string; group?: string; mqtt?: string; topic?: string; qos?: string; tz?: string; path?: string; method?: string; body?: string; contentType?: string; concurrencyPolicy?: TriggerDocument['concurrencyPolicy']; missed?: TriggerDocument['missed']; maxAttempts?: string; backoff?: string; maxBackoff?: string; orderedBy?: string; deadLetter?: 'skiff' | 'broker' }) => {
      if ((o.service === undefined) === (o.job === undefined)) throw new SkiffError('USAGE', `trigger add: give a target: --service NAME or --job NAME (one of them${o.service !== undefined ? ', not both' : ''})`);
      if ([o.cron, o.nats, o.amqp, o.redis, o.mqtt].every((x) => x === undefined)) throw new SkiffError('USAGE', 'trigger add: give a source: --cron "SCHEDULE", --nats URL, --amqp URL, --redis URL or --mqtt URL');
      if (o.job !== undefined) {
        const broker = (['nats', 'amqp', 'redis', 'mqtt'] as const).find((k) => o[k] !== undefined);
        if (broker) throw new SkiffError('USAGE', `--job: only with --cron (a --${broker} trigger feeds a service: --service NAME)`);
        const request = ([['path', '--path'], ['method', '--method'], ['body', '--body'], ['contentType', '--content-type'], ['maxAttempts', '--max-attempts'], ['backoff', '--backoff'], ['maxBackoff', '--max-backoff'], ['deadLetter', '--dead-letter']] as const).filter(([k]) => o[k] !== undefined);
        if (request.length) throw new SkiffError('USAGE', `${request.map(([, f]) => f).join(', ')}: not with --job (a fire starts an execution of the job and sends no request; its tasks retry per the job's --retries)`);
      }
      const body = dataOf(o.body);
      const doc: TriggerDocument = {
        name,
        ...(o.service !== undefined ? { service: o.service } : {}),
        ...(o.job !== undefined ? { job: o.job } : {}),
        ...(o.cron !== undefined ? { cron: o.cron } : {}),
        ...(o.nats !== undefined ? { nats: o.nats } : {}),
        ...(o.subject !== undefined ? { subject: o.subject } : {}),
        ...(o.queueGroup !== undefined ? { queueGroup: o.queueGroup } : {}),
        ...(o.stream !== undefined ? { stream: o.stream } : {}),
        ...(o.consumer !== undefined ? { consumer: o.consumer } : {}),
        ...(o.amqp !== undefined ? { amqp: o.amqp } : {}),
        ...(o.queue !== undefined ? { queue: o.queue } : {}),
        ...(o.prefetch !== undefined ? { prefetch: integer(o.prefetch, '--prefetch', 0) } : {}),
        ...(o.redis !== undefined ? { redis: o.redis } : {}),
        ...(o.group !== undefined ? { group: o.group } : {}),
        ...(o.mqtt !== undefined ? { mqtt: o.mqtt } : {}),
        ...(o.topic !== undefined ? { topic: o.topic } : {}),
        ...(o.qos !== undefined ? { qos: Number(o.qos) as 0 | 1 | 2 } : {}),
        ...(o.tz !== undefined ? { timezone: o.tz } : {}),
        ...(o.path !== undefined ? { path: o.path } : {}),
        ...(o.method !== undefined ? { method: o.method } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
        ...(o.concurrencyPolicy !== undefined ? { concurrencyPolicy: o.concurrencyPolicy } : {}),
        ...(o.missed !== undefined ? { missed: o.missed } : {}),
        ...(o.maxAttempts !== undefined ? { maxAttempts: integer(o.maxAttempts, '--max-attempts', 0) } : {}),
        ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
        ...(o.maxBackoff !== undefined ? { maxBackoff: o.maxBackoff } : {}),
        ...(o.orderedBy !== undefined ? { orderedBy: o.orderedBy } : {}),
        ...(o.deadLetter !== undefined ? { deadLetter: o.deadLetter } : {}),
      };
      const t = await clientFrom(program).addTrigger(doc);
      line(`added     ${t.name} → ${targetText(t)}${t.nextFireAt ? `, next fire ${t.nextFireAt}` : `, consuming ${sourceText(t)}`}`);
    });
  withOutput(trigger.command('ls').description('list triggers with their counters')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).listTriggers();
    await print(o, listed, () => {
      const rows = [['NAME', 'TARGET', 'SOURCE', 'NEXT FIRE/STATE', 'DELIVERED', 'FAILED', 'DLQ', '']];
      for (const t of listed.triggers) rows.push([t.name, targetText(t), sourceText(t), t.nextFireAt ?? t.state?.status ?? '-', String(t.stats.deliveries), String(t.stats.failures), String(t.stats.deadLetters), t.paused ? '(paused)' : '']);
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
    });
  });
  withOutput(trigger.command('describe <name>').description('a trigger: source, target, delivery policy, counters, backlog, dead letters, last errors')).action(async (name: string, o: OutputFlags) => {
    const t = await clientFrom(program).trigger(name);
    await print(o, t, () => triggerText(t));
  });
  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    trigger
      .command(`${action} <name>`)
      .description(paused ? 'pause a trigger (fires due while paused are not made up)' : 'resume a paused trigger')
      .action(async (name: string) => {
        const t = await clientFrom(program).pauseTrigger(name, paused);
        line(`${paused ? 'paused ' : 'resumed'}   ${t.name}${t.nextFireAt ? `, next fire ${t.nextFireAt}` : ''}`);
      });
  }
  trigger
    .command('rm <name>')
    .description('remove a trigger, its dead letters and its events not yet delivered')
    .action(async (name: string) => {
      await clientFrom(program).removeTrigger(name);
      line(`removed   ${name}`);
    });

  const dlq = program.command('dlq').description("a trigger's dead letters: events that failed every attempt");
  withOutput(dlq.command('ls <trigger>').description('dead letters, oldest first, with the last error')).action(async (name: string, o: OutputFlags) => {
    const listed = await clientFrom(program).deadLetters(name);
    await print(o, listed, () => (listed.deadLetters.length ? listed.deadLetters.map((l) => `${l.id}  ${l.createdAt}  ${l.attempts} attempts  ${l.request.method} ${l.request.path}  ${l.error}`).join('\n') : `(no dead letters for ${name})`));
  });
  const pick = (c: Command) => c.option('--id <id>', 'a dead letter (repeatable; default: all of them)', collect, []).option('--all', 'every dead letter (the default)');
  const chosen = (o: { id: string[]; all?: boolean }, verb: string): string[] | undefined => {
    if (o.all && o.id.length) throw new SkiffError('USAGE', `dlq ${verb}: give --id or --all, not both`);
    return o.id.length ? o.id : undefined;
  };
  pick(dlq.command('replay <trigger>').description("send dead letters to the service again, as new events with the trigger's delivery policy")).action(async (name: string, o: { id: string[]; all?: boolean }) => {
    const ids = chosen(o, 'replay');
    const r = await clientFrom(program).replayDeadLetters(name, ids);
    const missing = (ids ?? []).filter((id) => !r.replayed.includes(id));
    line(`replayed  ${r.replayed.length} dead letter(s)`);
    if (missing.length) throw new SkiffError('NOT_FOUND', `--id: ${name} has no dead letter ${missing.join(', ')}`);
  });
  pick(dlq.command('purge [trigger]').description("delete dead letters: a trigger's (all, or --id), or without a trigger every trigger's")).action(async (name: string | undefined, o: { id: string[]; all?: boolean }) => {
    const client = clientFrom(program);
    if (name === undefined) {
      if (o.id.length) throw new SkiffError('USAGE', 'dlq purge: --id needs the trigger (skiff dlq purge TRIGGER --id ID)');
      let purged = 0;
      for (const t of (await client.listTriggers()).triggers) if (t.stats.deadLetters > 0) purged += (await client.purgeDeadLetters(t.name)).purged;
      line(`purged    ${purged} dead letter(s) of every trigger`);
      return;
    }
    const r = await client.purgeDeadLetters(name, chosen(o, 'purge'));
    line(`purged    ${r.purged} dead letter(s)`);
  });

  program
    .command('invoke <service>')
    .description('send a request to a service through the gateway and print its answer; --async queues it and prints where to read it back')
    .option('--async', 'queue it (like Prefer: respond-async) and print the invocation id')
    .option('--data <data>', 'request body (@file reads a file, @- stdin)')
    .option('--path <path>', 'request path (default /)')
    .option('--method <method>', 'request method (default POST)')
    .option('-H, --header <K: V>', 'a request header (repeatable)', collect, [])
    .option('--idempotency-key <key>', 'with --async: a second invocation with this key returns the first one')
    .option('--callback <url>', 'with --async: an http(s) URL the finished invocation is POSTed to')
    .action(async (service: string, o: { async?: boolean; data?: string; path?: string; method?: string; header: string[]; idempotencyKey?: string; callback?: string }) => {
      const headers: Record<string, string> = {};
      for (const h of o.header) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new SkiffError('BAD_REQUEST', `--header: expected "Name: value", got ${JSON.stringify(h)}`);
        headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
      }
      const data = dataOf(o.data);
      if (!o.async && (o.idempotencyKey !== undefined || o.callback !== undefined)) throw new SkiffError('USAGE', '--idempotency-key and --callback go with --async');
      const body: InvokeBody = {
        ...(o.async ? { async: true } : {}),
        ...(o.method !== undefined ? { method: o.method } : {}),
        ...(o.path !== undefined ? { path: o.path } : {}),
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(data !== undefined ? { body: data } : {}),
        ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
        ...(o.callback !== undefined ? { callback: o.callback } : {}),
      };
      const r = await clientFrom(program).invoke(service, body);
      if ('location' in r) {
        line(`${r.id}${r.duplicate ? '  (an invocation with this idempotency key exists: this is it)' : ''}`);
        return;
      }
      process.stdout.write(Buffer.from(r.bodyBase64, 'base64'));
      if (r.status >= 400) throw new SkiffError('UPSTREAM_FAILED', `${service} answered HTTP ${r.status}`);
    });
}
