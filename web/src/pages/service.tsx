// web/pages/service: one service (docs/dashboard.md) — a header (name, project, URL, status) and six
// tabs: Overview (traffic, rollback, scale bounds, prewarm), Revisions, Instances, Logs, Events,
// Charts. The route's tab (#/services/NAME/TAB) selects one, so each is a link of its own. Only the
// shown tab is mounted: the log stream and the chart refresh run only while someone looks at them.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ServiceView } from '../../../src/core/views.ts';
import type { ApiResult } from '../api.ts';
import type { PageProps } from '../page.ts';
import { useChanges } from '../live.ts';
import { getService } from '../service-api.ts';
import { serviceStatus, tabOf, type TabId } from '../service-model.ts';
import { ServiceTabs } from '../service-tabs.tsx';
import { OverviewTab } from '../service-overview.tsx';
import { RevisionsTab } from '../service-revisions.tsx';
import { InstancesTab } from '../service-instances.tsx';
import { LogsTab } from '../service-logs.tsx';
import { EventsTab } from '../service-events.tsx';
import { ChartsTab } from '../service-charts.tsx';
import '../service.css';

/** What every tab is given: the service, and how to hand back an answer of the API. */
export interface TabProps {
  service: ServiceView;
  /** an action's answer: a new ServiceView replaces the page's, an error is shown, a 401 signs out */
  settle: <T>(r: ApiResult<T>) => r is { ok: true; value: T };
  onSignedOut: () => void;
}

export function ServicePage(props: PageProps & { name: string; tab?: string | undefined }) {
  const { name, onSignedOut } = props;
  const tab = tabOf(props.tab);
  const [service, setService] = useState<ServiceView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [missing, setMissing] = useState(false);
  const loads = useRef<AbortController | undefined>(undefined);

  const load = async () => {
    loads.current?.abort();
    const ac = new AbortController();
    loads.current = ac;
    let r: ApiResult<ServiceView>;
    try {
      r = await getService(name, ac.signal);
    } catch {
      return; // aborted: a newer read or leaving the page
    }
    if (r.ok) {
      setService(r.value);
      setError(undefined);
      setMissing(false);
    } else if (r.signedOut) onSignedOut();
    else if (r.status === 404) setMissing(true);
    else setError(r.message);
  };
  useEffect(() => {
    void load();
    return () => loads.current?.abort();
  }, [name]);
  useChanges((c) => c.kind === 'service' && c.name === name, () => void load());

  const settle = <T,>(r: ApiResult<T>): r is { ok: true; value: T } => {
    if (r.ok) {
      const v = r.value as unknown as Partial<ServiceView> | undefined;
      if (v && typeof v === 'object' && 'revisions' in v && v.name === name) setService(v as ServiceView);
      setError(undefined);
      return true;
    }
    if (r.signedOut) onSignedOut();
    else setError(r.message);
    return false;
  };

  if (missing) {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title">{name}</h1>
        <p role="alert" class="error">There is no service named {name}, or this session's token may not see it.</p>
        <p><a href="#/services">All services</a></p>
      </section>
    );
  }
  const status = service ? serviceStatus(service) : undefined;
  return (
    <section aria-labelledby="page-title" class="service-page">
      <p class="crumbs"><a href="#/services">Services</a> <span aria-hidden="true">/</span></p>
      <div class="heading">
        <h1 id="page-title">{name}</h1>
        {status && <span class={`svc-badge tone-${status.tone}`} title={status.detail}>{status.label}</span>}
      </div>
      {service && (
        <dl class="facts">
          <div><dt>Project</dt><dd>{service.project}</dd></div>
          <div><dt>URL</dt><dd><a href={service.url} rel="noreferrer noopener">{service.url}</a></dd></div>
          <div><dt>Serving</dt><dd><code>{service.servingRevision}</code>{service.servingRevision !== service.latestRevision && <> (latest <code>{service.latestRevision}</code>)</>}</dd></div>
          {status && <div><dt>Status</dt><dd>{status.detail}</dd></div>}
        </dl>
      )}
      {error && <p class="error" role="alert">{error} <button type="button" class="small" onClick={() => void load()}>Try again</button></p>}
      {!service && !error && <p class="muted" role="status">Loading…</p>}
      {service && (
        <ServiceTabs name={name} current={tab}>
          <TabBody tab={tab} service={service} settle={settle} onSignedOut={onSignedOut} />
        </ServiceTabs>
      )}
    </section>
  );
}

function TabBody(props: TabProps & { tab: TabId }) {
  switch (props.tab) {
    case 'overview':
      return <OverviewTab {...props} />;
    case 'revisions':
      return <RevisionsTab {...props} />;
    case 'instances':
      return <InstancesTab {...props} />;
    case 'logs':
      return <LogsTab {...props} />;
    case 'events':
      return <EventsTab {...props} />;
    case 'charts':
      return <ChartsTab {...props} />;
  }
}
