// triggers/brokers: the broker adapters by source kind, and how each is consumed (broker-consumer.ts):
// ack after delivery where the broker redelivers what was not acked and lets Skiff pull only what it
// can deliver (JetStream, RabbitMQ, Redis Streams), store-and-forward where it does not (NATS core) or
// where its client acks one message at a time (MQTT).
import type { BrokerSource as Spec } from '../../core/events.ts';
import type { BrokerSource } from './source.ts';
import { natsSource } from './nats.ts';
import { amqpSource } from './amqp.ts';
import { redisSource } from './redis.ts';
import { mqttSource } from './mqtt.ts';

/** `probe`: a connection that only checks the subscription (`trigger add`), leaving nothing behind */
export function brokerSource(spec: Spec, trigger: string, inFlight: number, o: { probe?: boolean } = {}): { source: BrokerSource; mode: 'direct' | 'queued' } {
  switch (spec.kind) {
    case 'nats':
      return { source: natsSource(spec, trigger), mode: spec.stream !== undefined ? 'direct' : 'queued' };
    case 'amqp':
      return { source: amqpSource(spec, trigger, inFlight), mode: 'direct' };
    case 'redis':
      return { source: redisSource(spec, trigger), mode: 'direct' };
    case 'mqtt':
      return { source: mqttSource(spec, trigger, !o.probe), mode: 'queued' };
  }
}

export { redactUrl } from './source.ts';
