// triggers/brokers/mqtt: MQTT 3.1.1 or 5 with mqtt.js. A persistent session (clean: false, a client id
// stable per trigger) with QoS 1 by default, so what is published while Skiff is away waits in the
// broker. mqtt.js handles one incoming QoS 1/2 message at a time and sends its PUBACK when
// handleMessage's callback is called: the consumer acks a message once it is stored in Skiff's durable
// queue (store-and-forward), so delivering many in parallel does not hold the broker's stream.
import mqtt, { type MqttClient } from 'mqtt';
import { SkiffError } from '../../core/errors.ts';
import type { MqttSource } from '../../core/events.ts';
import { Inbox, redactUrl, type BrokerSource } from './source.ts';

/** `persistent: false` for the check at `trigger add`: a clean session, which the broker forgets at
 *  disconnect (a persistent one would queue the topic's messages for nobody, up to its limit). */
export function mqttSource(s: MqttSource, name: string, persistent = true): BrokerSource {
  let client: MqttClient | undefined;
  let inbox = new Inbox();
  let seq = 0;
  return {
    describe: `mqtt ${redactUrl(s.url)} topic ${s.topic}`,
    async open() {
      inbox = new Inbox();
      const box = inbox;
      // reconnectPeriod 0: a lost connection is the consumer's to handle (close, reopen with back-off,
      // shown in describe); the persistent session keeps what is published meanwhile
      client = mqtt.connect(s.url, { clientId: `skiff-${name}`, clean: !persistent, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
      const c = client;
      let arrived: (() => void) | undefined;
      c.handleMessage = (packet, done) => {
        box.push({
          id: `${name}-${packet.messageId ?? 'q0'}-${Date.now()}-${seq++}`,
          subject: packet.topic,
          data: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          ack: async () => done(),
          extend: () => {},
        });
        arrived?.();
      };
      try {
        await new Promise<void>((resolve, reject) => {
          c.once('connect', () => resolve());
          c.once('error', reject);
          setTimeout(() => reject(new Error('no CONNACK within 5 s')), 5000).unref();
        });
        // A resumed session sends the messages it kept right after the CONNACK, and mqtt.js reads the
        // incoming packets one at a time: the SUBACK waits behind the first message until that one is
        // acked, which the consumer does only once open() returned. So a message that comes first ends
        // the wait (the session is subscribed already), and a refusal read later fails the inbox.
        const subscribed = c.subscribeAsync(s.topic, { qos: s.qos ?? 1 }).then((granted) => {
          if (granted.some((g) => g.qos === 128)) throw new Error(`the broker refused the subscription to ${s.topic}`);
        });
        subscribed.catch((err: Error) => box.fail(new Error(`mqtt: ${redactUrl(s.url)} topic ${s.topic}: ${err.message}`)));
        await Promise.race([subscribed, new Promise<void>((resolve) => (box.size > 0 ? resolve() : (arrived = resolve)))]);
      } catch (err) {
        c.end(true);
        throw new SkiffError('BAD_REQUEST', `mqtt: ${redactUrl(s.url)} topic ${s.topic}: ${(err as Error).message}`);
      }
      c.on('error', () => {});
      c.on('close', () => box.fail(new Error(`the connection to ${redactUrl(s.url)} closed`)));
    },
    take: (max, signal) => inbox.take(max, signal),
    backlog: async () => inbox.size,
    async close() {
      await client?.endAsync(true).catch(() => undefined);
      client = undefined;
    },
  };
}
