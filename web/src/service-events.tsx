// web/service-events: the service's event timeline, newest first — deploys, traffic changes, scale
// decisions with their reasons, instances ready, crashes and back-offs, keep-alive changes — with a
// filter by kind. It follows the page's ServiceView, which live updates read again.
import { useState } from 'preact/hooks';
import type { TabProps } from './pages/service.tsx';
import { ago, eventTone, eventsNewestFirst } from './service-model.ts';

export function EventsTab(props: TabProps) {
  const [kind, setKind] = useState('');
  const all = eventsNewestFirst(props.service.events);
  const kinds = [...new Set(all.map((e) => e.kind))].sort();
  const shown = kind ? all.filter((e) => e.kind === kind) : all;
  const now = Date.now();
  return (
    <div>
      <div class="toolbar">
        <div class="field">
          <label for="event-kind">Kind</label>
          <select id="event-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All kinds</option>
            {kinds.map((k) => <option value={k}>{k}</option>)}
          </select>
        </div>
      </div>
      <p class="muted" role="status">{shown.length} {shown.length === 1 ? 'event' : 'events'}, newest first</p>
      <ol class="timeline">
        {shown.map((e) => (
          <li class={`event tone-${eventTone(e.kind)}`}>
            <span class={`svc-badge tone-${eventTone(e.kind)}`}>{e.kind}</span>
            <time dateTime={e.at} title={e.at}>{ago(e.at, now)}</time>
            {e.revision && <code class="muted">{e.revision}</code>}
            <span class="message">{e.message}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
