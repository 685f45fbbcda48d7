// web/service-model: what the service page shows of a ServiceView and how its traffic sliders move —
// pure functions, no DOM, so test/web/service-model.test.ts checks them without a browser.
import type { InstanceView, RevisionConfig, ServiceView } from '../../src/core/views.ts';

/** The page's tabs, in order; the route's `tab` ("#/services/NAME/logs") names one. */
export const TABS = [
  ['overview', 'Overview'],
  ['revisions', 'Revisions'],
  ['instances', 'Instances'],
  ['logs', 'Logs'],
  ['events', 'Events'],
  ['charts', 'Charts'],
] as const;
export type TabId = (typeof TABS)[number][0];

/** The tab a route names; anything unknown (or none) is the overview, so an old link still opens. */
export function tabOf(tab: string | undefined): TabId {
  return TABS.find(([id]) => id === tab)?.[0] ?? 'overview';
}

export type Tone = 'ok' | 'warn' | 'bad' | 'idle';

/** One word for the header: is the service answering, idle, starting or failing? */
export function serviceStatus(s: ServiceView): { label: string; tone: Tone; detail: string } {
  const shares = sharesOf(s);
  const taking = s.revisions.filter((r) => (shares.get(r.name) ?? 0) > 0);
  const failing = taking.filter((r) => r.status.failures > 0);
  if (failing.length > 0) {
    const r = failing[0]!;
    return { label: 'Crash loop', tone: 'bad', detail: `${r.name}: ${r.status.failures} failure(s) in a row${r.status.lastFailure ? ` — ${r.status.lastFailure}` : ''}` };
  }
  const phases = taking.flatMap((r) => r.instances.map((i) => i.phase));
  // frozen instances answer after a thaw of milliseconds: as good as ready for a person looking
  if (phases.some((p) => p === 'ready' || p === 'frozen')) {
    const count = (phase: string) => phases.filter((p) => p === phase).length;
    return { label: 'Serving', tone: 'ok', detail: [`${count('ready')} ready`, ...(count('frozen') ? [`${count('frozen')} frozen`] : [])].join(', ') };
  }
  if (phases.some((p) => p === 'starting' || p === 'pre-created')) return { label: 'Starting', tone: 'warn', detail: 'instances are starting' };
  return { label: 'Scaled to zero', tone: 'idle', detail: 'no instance runs; the next request starts one' };
}

/** revision → its share of traffic (a revision may be listed twice: once with a share, once tagged) */
export function sharesOf(s: Pick<ServiceView, 'traffic'>): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of s.traffic) m.set(t.revision, (m.get(t.revision) ?? 0) + t.percent);
  return m;
}

// ---------------------------------------------------------------------------------------------------
// Traffic sliders

export interface Share {
  revision: string;
  percent: number;
}

/** One slider per revision, newest first as the API lists them, each at its share now. */
export function slidersOf(s: Pick<ServiceView, 'traffic' | 'revisions'>): Share[] {
  const shares = sharesOf(s);
  return s.revisions.map((r) => ({ revision: r.name, percent: shares.get(r.name) ?? 0 }));
}

/**
 * Moves slider `index` to `value` and keeps the total at 100: what it gains or loses is taken from or
 * given to the others in proportion to their shares (integers, largest remainder, ties to the earlier
 * slider). When the others hold nothing, the remainder goes to the nearest slider below (above for the
 * last) — with two revisions, dragging one from 100 to 70 gives the other 30, as a person expects.
 */
export function moveSlider(shares: readonly Share[], index: number, value: number): Share[] {
  const out = shares.map((s) => ({ ...s }));
  if (!out[index]) return out;
  if (out.length === 1) {
    out[0]!.percent = 100;
    return out;
  }
  const v = Math.max(0, Math.min(100, Math.round(value)));
  out[index]!.percent = v;
  const rest = 100 - v;
  const others = out.map((_, i) => i).filter((i) => i !== index);
  const held = others.reduce((n, i) => n + shares[i]!.percent, 0);
  if (held === 0) {
    const to = index + 1 < out.length ? index + 1 : index - 1;
    for (const i of others) out[i]!.percent = i === to ? rest : 0;
    return out;
  }
  const exact = others.map((i) => ({ i, x: (shares[i]!.percent * rest) / held }));
  for (const e of exact) out[e.i]!.percent = Math.floor(e.x);
  let left = rest - exact.reduce((n, e) => n + Math.floor(e.x), 0);
  const byRemainder = [...exact].sort((a, b) => b.x - Math.floor(b.x) - (a.x - Math.floor(a.x)) || a.i - b.i);
  for (const e of byRemainder) {
    if (left <= 0) break;
    out[e.i]!.percent += 1;
    left -= 1;
  }
  return out;
}

/** Which sliders show (indices): with `all` every one, else those holding a share now or in the edit,
 *  and the `newest` first ones — a service deployed a hundred times gets a few sliders, not a hundred. */
export function shownSliders(shares: readonly Share[], current: readonly Share[], all: boolean, newest = 4): number[] {
  return shares.map((_, i) => i).filter((i) => all || i < newest || shares[i]!.percent > 0 || (current[i]?.percent ?? 0) > 0);
}

/** moveSlider among the shown sliders only (`shown[k]` is the one moved): a hidden revision never
 *  receives a share nobody can see. */
export function moveShown(shares: readonly Share[], shown: readonly number[], k: number, value: number): Share[] {
  const moved = moveSlider(shown.map((i) => shares[i]!), k, value);
  const out = shares.map((x) => ({ ...x }));
  shown.forEach((i, j) => (out[i] = moved[j]!));
  return out;
}

export function total(shares: readonly Share[]): number {
  return shares.reduce((n, s) => n + s.percent, 0);
}

/** The revisions whose share a change would move: "r1 100% → 50%" lines for the confirm step. */
export function trafficChanges(before: readonly Share[], after: readonly Share[]): Array<{ revision: string; from: number; to: number }> {
  const was = new Map(before.map((s) => [s.revision, s.percent]));
  return after.filter((s) => (was.get(s.revision) ?? 0) !== s.percent).map((s) => ({ revision: s.revision, from: was.get(s.revision) ?? 0, to: s.percent }));
}

/**
 * The body of PUT /services/NAME/traffic for these shares — what `skiff traffic NAME REV=P …` sends:
 * the revisions with a share, and every tag kept on its revision with 0% (a tag left out would be
 * removed, and with it its URL).
 */
export function trafficBody(s: Pick<ServiceView, 'traffic'>, shares: readonly Share[]): { traffic: Array<{ revision: string; percent: number; tag?: string }> } {
  const tags = s.traffic.filter((t) => t.tag !== undefined).map((t) => ({ revision: t.revision, percent: 0, tag: t.tag! }));
  return { traffic: [...shares.filter((x) => x.percent > 0).map((x) => ({ revision: x.revision, percent: x.percent })), ...tags] };
}

/** The revision `POST /rollback` without `to` sends traffic to: the one before the newest revision
 *  taking traffic now (revisions are newest first), as the API does. */
export function rollbackTarget(s: Pick<ServiceView, 'traffic' | 'revisions'>): string | undefined {
  const shares = sharesOf(s);
  const newest = s.revisions.findIndex((r) => (shares.get(r.name) ?? 0) > 0);
  return newest < 0 ? undefined : s.revisions[newest + 1]?.name;
}

// ---------------------------------------------------------------------------------------------------
// Revisions and instances

/** An instance as the API may describe it: age, CPU and memory are answered by newer daemons only. */
export type InstanceInfo = InstanceView & { startedAt?: string; cpuPercent?: number; memoryBytes?: number };

export interface InstanceRow {
  id: string;
  phase: string;
  revision: string;
  address: string;
  /** the cluster node it runs on (swarm driver); empty on one machine */
  node: string;
  age: string;
  cpu: string;
  memory: string;
}

export function instanceRows(s: ServiceView, now: number): InstanceRow[] {
  return s.revisions.flatMap((r) =>
    (r.instances as InstanceInfo[]).map((i) => ({
      id: i.id,
      phase: i.phase,
      revision: r.name,
      address: i.address ?? '',
      node: i.node ?? '',
      age: i.startedAt ? duration(now - Date.parse(i.startedAt)) : '',
      cpu: typeof i.cpuPercent === 'number' ? `${i.cpuPercent < 10 ? i.cpuPercent.toFixed(1) : Math.round(i.cpuPercent)}%` : '',
      memory: typeof i.memoryBytes === 'number' ? bytes(i.memoryBytes) : '',
    })),
  );
}

/** A revision's effective config as label/value pairs. Environment variables by name only: a value
 *  may be a credential someone put there instead of in a secret, and a screen is easily shared. */
export function configRows(c: RevisionConfig): Array<[label: string, value: string]> {
  const sc = c.scaling;
  const secs = (ms: number) => `${ms / 1000} s`;
  const rows: Array<[string, string]> = [
    ['Port', `${c.protocol === 'tcp' ? 'tcp ' : ''}${c.port}${c.ingress === 'internal' ? ' (internal only)' : ''}`],
  ];
  if (c.command) rows.push(['Command', c.command.join(' ')]);
  if (c.args) rows.push(['Arguments', c.args.join(' ')]);
  const env = Object.keys(c.env ?? {}).sort();
  rows.push(['Environment', env.length ? env.join(', ') : 'none']);
  if (c.secrets) {
    const s = c.secrets;
    rows.push(['Secrets', [...s.envFrom.map((r) => `env from ${r.secret}@${r.version}`), ...Object.entries(s.env).map(([v, r]) => `${v} ← ${r.secret}@${r.version}:${r.key}`), ...s.mounts.map((m) => `${m.path} ← ${m.secret}@${m.version}`)].join(', ') || 'none']);
  }
  rows.push(['Limits', `memory ${bytes(c.memoryBytes)}, CPU ${c.cpus}, pids ${c.pids}${c.diskBytes !== undefined ? `, disk ${bytes(c.diskBytes)}` : ''}${c.readOnlyRoot ? ', read-only root' : ''}`]);
  if (c.capabilities?.length) rows.push(['Capabilities', c.capabilities.join(', ')]);
  if (c.volumes?.length) rows.push(['Volumes', c.volumes.map((v) => `${v.volume} at ${v.path}${v.readOnly ? ' (read-only)' : ''}`).join(', ')]);
  if (c.gpus) rows.push(['GPUs', String(c.gpus)]);
  rows.push(['Concurrency', sc.concurrency ? `${sc.concurrency} per instance` : 'unlimited']);
  rows.push(['Autoscaling', `${sc.metric} target ${sc.target} at ${Math.round(sc.targetUtilization * 100)}%, window ${secs(sc.stableWindowMs)}, keep-alive ${sc.keepAlive ?? 'adaptive'}${sc.freezeIdle ? ', frozen when idle' : ''}`]);
  rows.push(['CPU', c.cpuAlways ? 'always allocated' : 'only during requests']);
  rows.push(['Billing', c.billing === 'instance' ? 'instance lifetime' : 'request time']);
  rows.push(['Requests', `timeout ${secs(c.timeoutMs)}, queue ${c.queueLimit}, drain grace ${secs(c.drainGraceMs)}`]);
  rows.push(['Readiness', probeText(c.readiness)]);
  if (c.liveness) rows.push(['Liveness', probeText(c.liveness)]);
  if (c.labels && Object.keys(c.labels).length) rows.push(['Labels', Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')]);
  return rows;
}

function probeText(p: RevisionConfig['readiness']): string {
  return `${p.path ? `GET ${p.path}` : 'TCP connect'} every ${p.periodMs / 1000} s, timeout ${p.timeoutMs / 1000} s, ${p.failureThreshold} failure(s)`;
}

// ---------------------------------------------------------------------------------------------------
// Events

export type ServiceEvent = ServiceView['events'][number];

/** Newest first whatever order the API sent (ties keep its order). */
export function eventsNewestFirst(events: readonly ServiceEvent[]): ServiceEvent[] {
  return events.map((e, i) => ({ e, i, t: Date.parse(e.at) })).sort((a, b) => b.t - a.t || a.i - b.i).map((x) => x.e);
}

/** What kind of thing an event is, for its badge: a failure stands out, a scale decision does not. */
export function eventTone(kind: string): Tone {
  if (/fail|back-off|exited|crash|liveness|not-ready|evicted|quota/.test(kind)) return 'bad';
  if (/deploy|traffic|rollback|ready/.test(kind)) return 'ok';
  if (/scale|keep-alive|prewarm/.test(kind)) return 'warn';
  return 'idle';
}

// ---------------------------------------------------------------------------------------------------
// Formatting

export function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${trim(n / 1024 ** 3)} GiB`;
  if (n >= 1024 ** 2) return `${trim(n / 1024 ** 2)} MiB`;
  if (n >= 1024) return `${trim(n / 1024)} KiB`;
  return `${n} B`;
}

function trim(x: number): string {
  return x >= 100 ? String(Math.round(x)) : String(Number(x.toFixed(1)));
}

/** "4 s", "3 min", "2 h 5 min", "3 d" — an age at a glance */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86400)} d`;
}

/** "3 min ago" for a time in the past (an ISO string) */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : `${duration(now - t)} ago`;
}
