// web/service-revisions: every revision, newest first — its share of traffic, image digest, whether it
// is in a crash loop and why, its instances, and its effective configuration (env vars by name only).
import type { TabProps } from './pages/service.tsx';
import { ago, configRows, sharesOf } from './service-model.ts';

export function RevisionsTab(props: TabProps) {
  const s = props.service;
  const shares = sharesOf(s);
  const now = Date.now();
  return (
    <div class="revisions">
      {s.revisions.map((r) => {
        const tags = s.traffic.filter((t) => t.revision === r.name && t.tag).map((t) => t.tag);
        const marks = [r.name === s.servingRevision && 'serving', r.name === s.latestRevision && 'latest', ...tags.map((t) => `tag ${t}`)].filter(Boolean);
        return (
          <article class="svc-card revision" aria-labelledby={`rev-${r.name}`} key={r.name}>
            <h2 id={`rev-${r.name}`}><code>{r.name}</code> <span class="muted small-text">{marks.join(' · ')}</span></h2>
            <dl class="facts">
              <div><dt>Traffic</dt><dd>{shares.get(r.name) ?? 0}%</dd></div>
              <div><dt>Created</dt><dd><time dateTime={r.createdAt} title={r.createdAt}>{ago(r.createdAt, now)}</time></dd></div>
              <div><dt>Instances</dt><dd>{r.instances.length ? r.instances.map((i) => i.phase).join(', ') : 'none'}</dd></div>
              <div class="span"><dt>Image</dt><dd><code class="wrap">{r.digest}</code> <span class="muted">({r.image})</span></dd></div>
            </dl>
            {r.status.failures > 0 && (
              <p class="error">Crash loop: {r.status.failures} failure(s) in a row{r.status.nextStartAt ? `, next start at ${new Date(r.status.nextStartAt).toLocaleTimeString()}` : ''}.{r.status.lastFailure && <><br />Last: {r.status.lastFailure}</>}</p>
            )}
            <details>
              <summary>Configuration</summary>
              <dl class="config">
                {configRows(r.config).map(([k, v]) => <div><dt>{k}</dt><dd>{v}</dd></div>)}
              </dl>
              <p class="muted small-text">Environment variables are listed by name only.</p>
            </details>
          </article>
        );
      })}
    </div>
  );
}
