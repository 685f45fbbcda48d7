// web/service-overview: the service page's first tab — what serves it and how it scales, then the
// controls: traffic split, rollback, scale bounds, prewarm.
import type { TabProps } from './pages/service.tsx';
import { PrewarmForm, RollbackControl, ScaleForm } from './service-actions.tsx';
import { duration } from './service-model.ts';
import { TrafficEditor } from './service-traffic.tsx';

export function OverviewTab(props: TabProps) {
  const s = props.service;
  const ka = s.keepAlive;
  return (
    <div class="overview">
      <dl class="facts wide">
        <div><dt>Image</dt><dd><code>{s.image}</code></dd></div>
        <div><dt>Path URL</dt><dd><a href={s.pathUrl} rel="noreferrer noopener">{s.pathUrl}</a></dd></div>
        <div><dt>Traffic</dt><dd>{s.traffic.map((t) => `${t.revision} ${t.percent}%${t.tag ? ` (tag ${t.tag})` : ''}`).join(' · ')}</dd></div>
        {s.traffic.filter((t) => t.url).map((t) => <div><dt>Tag {t.tag}</dt><dd><a href={t.url} rel="noreferrer noopener">{t.url}</a></dd></div>)}
        <div><dt>Scaling</dt><dd>min {s.scaling.min}, max {s.scaling.max}, concurrency {s.scaling.concurrency || 'unlimited'}, metric {s.scaling.metric}</dd></div>
        <div><dt>Keep-alive</dt><dd>{ka.kind === 'histogram' ? 'learned' : 'fixed'}: {duration(ka.keepAliveMs)}{ka.preWarmMs !== undefined ? `, pre-warm after ${duration(ka.preWarmMs)}` : ''} — {ka.reason}</dd></div>
        <div><dt>Revisions</dt><dd>{s.revisions.length} (latest <code>{s.latestRevision}</code>)</dd></div>
      </dl>
      <div class="svc-cards">
        <TrafficEditor {...props} />
        <RollbackControl {...props} />
        <ScaleForm {...props} />
        <PrewarmForm {...props} />
      </div>
    </div>
  );
}
