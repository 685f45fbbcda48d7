// triggers/brokers/redis: Redis Streams with node-redis. A consumer group reads with XREADGROUP (at
// most `max` entries, blocking up to 5 s), and an entry is XACKed once delivered or dead-lettered. The
// consumer name is stable per trigger, so after a restart this consumer's own pending entries (read
// but never acked: a crash) are read again first (id 0); entries another consumer left pending longer
// than the claim idle time are taken over with XAUTOCLAIM (a dead consumer's messages are not lost).
import { createClient } from 'redis';
import { SkiffError } from '../../core/errors.ts';
import type { RedisSource } from '../../core/events.ts';
import { redactUrl, type BrokerMessage, type BrokerSource } from './source.ts';

/** a pending entry idle this long belongs to a consumer that died: claimed */
const CLAIM_IDLE_MS = 60_000;

type Client = ReturnType<typeof createClient>;
type Entry = { id: string; message: Record<string, string> };

export function redisSource(s: RedisSource, name: string): BrokerSource {
  let client: Client | undefined;
  /** blocking reads hold their connection: acks and claims go on `client`, reads on this one */
  let reader: Client | undefined;
  const consumer = `skiff-${name}`;
  /** read our own pending entries first (a crash left them unacked), then new ones */
  let cursor = '0';
  /** set when either connection closed: the next take fails, and the consumer reconnects */
  let lost: Error | undefined;
  let lastClaim = 0;

  const message = (e: Entry): BrokerMessage => {
    // the data is the entry's `data` field when it has one, else the whole entry as JSON
    const fields = e.message;
    const data = fields.data !== undefined ? Buffer.from(fields.data) : Buffer.from(JSON.stringify(fields));
    const contentType = fields.data !== undefined ? fields['content-type'] ?? fields.contentType : 'application/json';
    return {
      id: `${s.stream}-${e.id}`,
      subject: s.stream,
      data,
      ...(contentType ? { contentType } : {}),
      headers: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v])),
      ack: async () => void (await client!.xAck(s.stream, s.group, e.id)),
      extend: () => {},
    };
  };

  return {
    describe: `redis ${redactUrl(s.url)} stream ${s.stream} group ${s.group}`,
    async open() {
      // No reconnecting behind the consumer's back: a lost connection fails the commands (no offline
      // queue), and the consumer reconnects with back-off and says so in describe.
      client = createClient({ url: s.url, disableOfflineQueue: true, socket: { connectTimeout: 5000, reconnectStrategy: false } });
      client.on('error', () => {}); // reported through the failing commands
      try {
        await client.connect();
        const groups = (await client.xInfoGroups(s.stream)) as Array<{ name: string }>;
        if (!groups.some((g) => g.name === s.group)) throw new Error(`no consumer group ${s.group} (XGROUP CREATE ${s.stream} ${s.group} $ MKSTREAM)`);
      } catch (err) {
        await client.destroy();
        client = undefined;
        throw new SkiffError('BAD_REQUEST', `redis: stream ${s.stream} on ${redactUrl(s.url)}: ${(err as Error).message}`);
      }
      reader = client.duplicate();
      reader.on('error', () => {});
      lost = undefined;
      for (const c of [client, reader]) c.on('end', () => (lost ??= new Error(`the connection to ${redactUrl(s.url)} closed`)));
      await reader.connect();
      cursor = '0';
    },
    async take(max, signal) {
      if (lost) throw lost;
      const c = client!;
      if (Date.now() - lastClaim > CLAIM_IDLE_MS / 2) {
        lastClaim = Date.now();
        const claimed = await c.xAutoClaim(s.stream, s.group, consumer, CLAIM_IDLE_MS, '0-0', { COUNT: max });
        const live = (claimed.messages as Array<Entry | null>).filter((m): m is Entry => m !== null);
        if (live.length) return live.map(message);
      }
      while (!signal.aborted) {
        if (lost) throw lost;
        const res = (await reader!.xReadGroup(s.group, consumer, { key: s.stream, id: cursor }, { COUNT: max, ...(cursor === '>' ? { BLOCK: 2000 } : {}) })) as Array<{ name: string; messages: Entry[] }> | null;
        const entries = res?.[0]?.messages ?? [];
        if (cursor === '0') {
          // the history of our pending entries is read once; then new entries
          if (entries.length === 0) cursor = '>';
          else return entries.map(message);
          continue;
        }
        if (entries.length) return entries.map(message);
      }
      return [];
    },
    async backlog() {
      try {
        const groups = (await client!.xInfoGroups(s.stream)) as Array<{ name: string; pending: number; lag?: number | null }>;
        const g = groups.find((x) => x.name === s.group);
        return g ? g.pending + (g.lag ?? 0) : undefined;
      } catch {
        return undefined;
      }
    },
    async close() {
      if (reader?.isOpen) reader.destroy();
      if (client?.isOpen) client.destroy();
      reader = undefined;
      client = undefined;
    },
  };
}
