// triggers/cloudevent: an event as the service receives it — a CloudEvent in HTTP binary mode (the
// `ce-*` attribute headers, the data as the body), made by the CloudEvents SDK so the headers are
// exactly the spec's. One format whatever the trigger, so one service can be fed by any of them.
import { CloudEvent, HTTP } from 'cloudevents';

export interface EventAttributes {
  id: string;
  /** a URI naming where it came from, e.g. `/skiff/triggers/nightly` */
  source: string;
  /** reverse-DNS, e.g. `dev.skiff.cron.fired` */
  type: string;
  subject?: string;
  /** ISO 8601 */
  time: string;
  contentType?: string;
}

/** The request headers (lower-case) and body of `data` as a binary-mode CloudEvent. */
export function binaryEvent(attrs: EventAttributes, data: Buffer): { headers: Record<string, string>; body: Buffer } {
  const event = new CloudEvent(
    {
      specversion: '1.0',
      id: attrs.id,
      source: attrs.source,
      type: attrs.type,
      time: attrs.time,
      ...(attrs.subject !== undefined ? { subject: attrs.subject } : {}),
      ...(data.length ? { datacontenttype: attrs.contentType ?? 'application/octet-stream', data: data } : {}),
    },
    false,
  );
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k.toLowerCase()] = String(v);
  return { headers, body: data };
}
