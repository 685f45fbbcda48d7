// web/service-actions: the service's other controls — rollback (with a confirm step naming where the
// traffic goes), scale bounds (PATCH …/scaling, no new revision) and prewarm (POST …/prewarm) — each
// calling the same API as its `skiff` command.
import { useEffect, useState } from 'preact/hooks';
import type { TabProps } from './pages/service.tsx';
import { prewarm, rollback, scale } from './service-api.ts';
import { rollbackTarget, sharesOf } from './service-model.ts';

export function RollbackControl(props: TabProps) {
  const { service } = props;
  const fallback = rollbackTarget(service) ?? '';
  const [to, setTo] = useState(fallback);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  useEffect(() => setTo(fallback), [fallback]);
  const shares = sharesOf(service);
  const from = service.traffic.filter((t) => t.percent > 0).map((t) => `${t.revision} ${t.percent}%`).join(', ');
  const choices = service.revisions.filter((r) => (shares.get(r.name) ?? 0) < 100);

  const go = async () => {
    setBusy(true);
    const r = await rollback(service.name, to || undefined);
    setBusy(false);
    setConfirming(false);
    if (props.settle(r)) setDone(`All traffic now goes to ${r.value.servingRevision}.`);
  };
  return (
    <section aria-labelledby="rollback-title" class="svc-card">
      <h2 id="rollback-title">Roll back</h2>
      {choices.length === 0 ? <p class="muted">There is no other revision to send traffic to.</p> : (
        <>
          <div class="field">
            <label for="rollback-to">Send all traffic to</label>
            <select id="rollback-to" value={to} disabled={confirming || busy} onChange={(e) => setTo((e.currentTarget as HTMLSelectElement).value)}>
              {choices.map((r) => <option value={r.name}>{r.name}{r.name === fallback ? ' (previous)' : ''}</option>)}
            </select>
          </div>
          {!confirming ? <button type="button" onClick={() => { setDone(undefined); setConfirming(true); }} disabled={!to}>Roll back…</button> : (
            <div class="svc-confirm" role="group" aria-labelledby="rollback-confirm">
              <p id="rollback-confirm"><strong>Roll back?</strong> Traffic now: {from || 'none'} → after: <code>{to}</code> 100%.</p>
              <div class="svc-actions">
                <button type="button" class="danger" onClick={() => void go()} disabled={busy} aria-busy={busy ? 'true' : undefined}>{busy ? 'Rolling back…' : `Roll back to ${to}`}</button>
                <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>Cancel</button>
              </div>
            </div>
          )}
        </>
      )}
      {done && <p role="status">{done}</p>}
    </section>
  );
}

export function ScaleForm(props: TabProps) {
  const { service } = props;
  const [min, setMin] = useState(String(service.scaling.min));
  const [max, setMax] = useState(String(service.scaling.max));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  useEffect(() => {
    setMin(String(service.scaling.min));
    setMax(String(service.scaling.max));
  }, [service.scaling.min, service.scaling.max]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const lo = Number(min);
    const hi = Number(max);
    if (!Number.isInteger(lo) || lo < 0) return setProblem('Minimum: a whole number, 0 or more.');
    if (!Number.isInteger(hi) || hi < 1) return setProblem('Maximum: a whole number, 1 or more.');
    if (lo > hi) return setProblem('The minimum cannot be above the maximum.');
    setProblem(undefined);
    setBusy(true);
    const r = await scale(service.name, { min: lo, max: hi });
    setBusy(false);
    if (props.settle(r)) setDone(`Scale bounds now: min ${r.value.scaling.min}, max ${r.value.scaling.max}.`);
  };
  const unchanged = Number(min) === service.scaling.min && Number(max) === service.scaling.max;
  return (
    <section aria-labelledby="scale-title" class="svc-card">
      <h2 id="scale-title">Scale bounds</h2>
      <form onSubmit={submit} noValidate class="inline-form">
        <div class="field">
          <label for="scale-min">Minimum instances</label>
          <input id="scale-min" type="number" inputMode="numeric" min={0} value={min} onInput={(e) => { setDone(undefined); setMin((e.currentTarget as HTMLInputElement).value); }}
            aria-describedby="scale-help" aria-invalid={problem ? 'true' : undefined} />
        </div>
        <div class="field">
          <label for="scale-max">Maximum instances</label>
          <input id="scale-max" type="number" inputMode="numeric" min={1} value={max} onInput={(e) => { setDone(undefined); setMax((e.currentTarget as HTMLInputElement).value); }}
            aria-describedby="scale-help" aria-invalid={problem ? 'true' : undefined} />
        </div>
        <button type="submit" disabled={busy || unchanged} aria-busy={busy ? 'true' : undefined}>{busy ? 'Saving…' : 'Save bounds'}</button>
      </form>
      <p id="scale-help" class="muted">0 as the minimum lets the service scale to zero when idle. Applies to every revision, without a new one.</p>
      {problem && <p class="error" role="alert">{problem}</p>}
      {done && <p role="status">{done}</p>}
    </section>
  );
}

const DURATIONS = [['5m', '5 minutes'], ['10m', '10 minutes'], ['30m', '30 minutes'], ['1h', '1 hour'], ['4h', '4 hours']] as const;

export function PrewarmForm(props: TabProps) {
  const { service } = props;
  const [instances, setInstances] = useState('1');
  const [span, setSpan] = useState('10m');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const n = Number(instances);
    if (!Number.isInteger(n) || n < 1 || n > service.scaling.max) return setProblem(`Instances: a whole number from 1 to the maximum, ${service.scaling.max}.`);
    setProblem(undefined);
    setBusy(true);
    const r = await prewarm(service.name, { instances: n, for: span });
    setBusy(false);
    if (props.settle(r)) setDone(r.value.revisions.map((x) => `${x.revision}: ${x.ready} of ${x.instances} ready`).join('; ') + `; kept warm until ${new Date(r.value.until).toLocaleTimeString()}.`);
  };
  return (
    <section aria-labelledby="prewarm-title" class="svc-card">
      <h2 id="prewarm-title">Prewarm</h2>
      <form onSubmit={submit} noValidate class="inline-form">
        <div class="field">
          <label for="prewarm-n">Instances per revision</label>
          <input id="prewarm-n" type="number" inputMode="numeric" min={1} max={service.scaling.max} value={instances} aria-invalid={problem ? 'true' : undefined}
            onInput={(e) => setInstances((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="prewarm-for">Keep warm for</label>
          <select id="prewarm-for" value={span} onChange={(e) => setSpan((e.currentTarget as HTMLSelectElement).value)}>
            {DURATIONS.map(([v, l]) => <option value={v}>{l}</option>)}
          </select>
        </div>
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>{busy ? 'Starting…' : 'Prewarm'}</button>
      </form>
      <p class="muted">Starts instances of the revisions taking traffic now, ahead of known demand.</p>
      {problem && <p class="error" role="alert">{problem}</p>}
      {done && <p role="status">{done}</p>}
    </section>
  );
}
