// web/service-traffic: the traffic split editor — one slider per revision that always sum to 100
// (moving one moves the others in proportion: service-model moveSlider), then a confirm step showing
// each share before → after, then PUT /api/v1/services/NAME/traffic, as `skiff traffic` does.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TabProps } from './pages/service.tsx';
import { setTraffic } from './service-api.ts';
import { moveShown, shownSliders, slidersOf, total, trafficBody, trafficChanges, type Share } from './service-model.ts';

export function TrafficEditor(props: TabProps) {
  const { service } = props;
  const current = useMemo(() => slidersOf(service), [service]);
  const [shares, setShares] = useState<Share[]>(current);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const key = current.map((s) => `${s.revision}=${s.percent}`).join(' ');
  // a change from elsewhere (the CLI, another tab) resets an edit not yet applied
  useEffect(() => {
    setShares(current);
    setConfirming(false);
  }, [key]);

  // the confirm step takes the focus, so a keyboard user lands on Apply / Cancel
  const applyButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) applyButton.current?.focus();
  }, [confirming]);

  const [all, setAll] = useState(false);
  const shown = shownSliders(shares, current, all);
  const changes = trafficChanges(current, shares);
  const sum = total(shares);
  const apply = async () => {
    setBusy(true);
    const r = await setTraffic(service.name, trafficBody(service, shares));
    setBusy(false);
    setConfirming(false);
    if (props.settle(r)) setDone(`Traffic now: ${r.value.traffic.filter((t) => t.percent > 0).map((t) => `${t.revision} ${t.percent}%`).join(', ')}.`);
  };

  return (
    <section aria-labelledby="traffic-title" class="svc-card">
      <h2 id="traffic-title">Traffic split</h2>
      <p class="muted" id="traffic-help">Drag a slider (or use the arrow keys) to move traffic; the other revisions give or take in proportion, so the split always adds up to 100%.</p>
      <form onSubmit={(e) => { e.preventDefault(); if (changes.length && sum === 100) setConfirming(true); }}>
        <div class="sliders">
          {shown.map((i) => shares[i]!).map((s, k) => (
            <div class="slider" key={s.revision}>
              <label for={`share-${s.revision}`}><code>{s.revision}</code></label>
              <input id={`share-${s.revision}`} type="range" min={0} max={100} step={1} value={s.percent} aria-describedby="traffic-help"
                aria-valuetext={`${s.percent} percent`} disabled={busy || confirming}
                onInput={(e) => { setDone(undefined); setShares(moveShown(shares, shown, k, Number((e.currentTarget as HTMLInputElement).value))); }} />
              <output for={`share-${s.revision}`} class="percent">{s.percent}%</output>
            </div>
          ))}
        </div>
        {shown.length < shares.length && (
          <button type="button" class="secondary small" onClick={() => setAll(true)}>Show all {shares.length} revisions</button>
        )}
        <p class={sum === 100 ? 'muted' : 'error'} aria-live="polite">Total {sum}%{sum !== 100 && ` — ${100 - sum}% left to assign`}</p>
        {!confirming && (
          <div class="svc-actions">
            <button type="submit" disabled={busy || changes.length === 0 || sum !== 100}>Review change…</button>
            <button type="button" class="secondary" disabled={changes.length === 0} onClick={() => setShares(current)}>Reset</button>
          </div>
        )}
      </form>
      {confirming && (
        <div class="svc-confirm" role="group" aria-labelledby="traffic-confirm-title">
          <h3 id="traffic-confirm-title">Change the traffic split?</h3>
          <table class="svc-plain">
            <caption class="visually-hidden">Shares before and after</caption>
            <thead><tr><th scope="col">Revision</th><th scope="col">Now</th><th scope="col">After</th></tr></thead>
            <tbody>
              {changes.map((c) => <tr key={c.revision}><th scope="row"><code>{c.revision}</code></th><td>{c.from}%</td><td>{c.to}% <span aria-hidden="true">{c.to > c.from ? '▲' : '▼'}</span></td></tr>)}
            </tbody>
          </table>
          <div class="svc-actions">
            <button type="button" onClick={() => void apply()} disabled={busy} aria-busy={busy ? 'true' : undefined} ref={applyButton}>{busy ? 'Applying…' : 'Apply'}</button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>Cancel</button>
          </div>
        </div>
      )}
      {done && <p role="status">{done}</p>}
    </section>
  );
}
