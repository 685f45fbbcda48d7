// api/client: the typed client of the control API and registry that the CLI (and tests) use.
// API errors come back as SkiffError with the server's stable code.
import type { NodeView } from '../core/nodes.ts';
import { SkiffError, ERROR_CATALOGUE, type ErrorCode } from '../core/errors.ts';
import type { TrafficTarget } from '../core/service.ts';
import type { DeployResult, GcResult, PrewarmResult, ProjectQuotaBody, ProjectView, RunEvent, RunExit, ServiceStatsView, ServicesStatsView, ServiceView, VolumeView } from '../core/views.ts';
import type { DeployDocument, DeployPatch, RunRequest } from '../core/documents.ts';
import type { TokenRole } from '../core/auth.ts';
import { open, readText, type Exchange } from './http-transport.ts';
import type { DeployOptions } from './ports.ts';
import type { DeadLetterView, InvocationView, InvokeAnswer, InvokeBody, TriggerDocument, TriggerView } from '../core/events.ts';
import type { ExecutionView, JobDocument, JobView } from '../core/jobs.ts';
import type { SecretSetBody, SecretView } from '../core/secrets.ts';
import type { DomainDocument, DomainView } from '../core/domains.ts';
import type { VolumeCreateBody } from '../core/volumes.ts';
import type { Invoice, UsageGrouping, UsageReport } from '../core/usage.ts';
import type { BudgetStatus } from '../core/budgets.ts';
import type { RegistryRepositoryDetail, RegistryRepositoryView } from '../core/registry-views.ts';
import type { Readable } from 'node:stream';

export interface ClientOptions {
  baseUrl: string;
  token: string;
  /** where the token came from (SKIFF_TOKEN, a file): a 401 names it */
  tokenSource?: string;
  /** the project to act in (the Skiff-Project header); a project's own token acts in its project anyway */
  project?: string;
}

export class SkiffClient {
  constructor(readonly options: ClientOptions) {}

  get authHeader(): string {
    return `Bearer ${this.options.token}`;
  }

  /** Sends a request to the API; a failure to connect is UNAVAILABLE naming the API (unless aborted). */
  private async exchange(method: string, path: string, o: { json?: unknown; signal?: AbortSignal; raw?: { body: Readable; contentType: string } } = {}) {
    const x: Exchange = {
      method,
      url: new URL(path, this.options.baseUrl),
      headers: { authorization: this.authHeader, ...(this.options.project ? { 'skiff-project': this.options.project } : {}), ...(o.raw ? { 'content-type': o.raw.contentType } : o.json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: o.raw ? o.raw.body : o.json === undefined ? undefined : JSON.stringify(o.json),
      signal: o.signal,
    };
    const res = await open(x).catch((err: Error) => {
      if (o.signal?.aborted) throw err;
      throw new SkiffError('UNAVAILABLE', `cannot reach the Skiff API at ${this.options.baseUrl}: ${err.message}`);
    });
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const err = errorFromBody(status, await readText(res));
      if (status === 401 && this.options.tokenSource) throw new SkiffError('UNAUTHORIZED', `${err.message} (the token sent came from ${this.options.tokenSource})`);
      throw err;
    }
    return res;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await readText(await this.exchange(method, path, { json: body }));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  health() {
    return this.request<{ status: string; version: string }>('GET', '/api/v1/health');
  }

  /** `skiff down`: the daemon drains and stops every instance, then stops (answers before it does). */
  down() {
    return this.request<{ status: 'draining' }>('POST', '/api/v1/daemon/down');
  }

  /** the nodes instances run on (operator) */
  nodes() {
    return this.request<{ nodes: NodeView[] }>('GET', '/api/v1/nodes');
  }

  /** Whether the daemon answers /healthz (no token needed). */
  async alive(): Promise<boolean> {
    try {
      const res = await open({ method: 'GET', url: new URL('/healthz', this.options.baseUrl), signal: AbortSignal.timeout(2000) });
      res.resume();
      return (res.statusCode ?? 0) === 200;
    } catch {
      return false;
    }
  }

  gc() {
    return this.request<GcResult>('POST', '/api/v1/registry/gc');
  }

  /** the CA certificate (PEM) of the registry's TLS listener, which nodes trust (404 NOT_FOUND while it is off) */
  async caCertificate(): Promise<string> {
    return readText(await this.exchange('GET', '/api/v1/ca'));
  }

  /** the registry's repositories this token may pull from (its project's; '*': all) */
  listRepositories() {
    return this.request<{ repositories: RegistryRepositoryView[] }>('GET', '/api/v1/registry/repositories');
  }

  /** a repository's tagged manifests, sizes and referrers (its name's slashes go encoded, one segment) */
  repository(name: string) {
    return this.request<RegistryRepositoryDetail>('GET', `/api/v1/registry/repositories/${encodeURIComponent(name)}`);
  }

  /** deletes a tag, or (a digest: sha256:…) the manifest with every tag pointing at it */
  deleteImage(name: string, reference: string) {
    const kind = reference.includes(':') ? 'manifests' : 'tags';
    return this.request<void>('DELETE', `/api/v1/registry/repositories/${encodeURIComponent(name)}/${kind}/${encodeURIComponent(reference)}`);
  }

  /** `project`: the project it acts in ('*': every project); by default the request's project */
  createToken(name: string, role: TokenRole, project?: string) {
    return this.request<{ id: string; secret: string }>('POST', '/api/v1/tokens', { name, role, ...(project ? { project } : {}) });
  }

  listTokens() {
    return this.request<{ tokens: Array<{ id: string; name: string; project: string; tenant: string; role: string; created_at: number }> }>('GET', '/api/v1/tokens');
  }

  createProject(name: string, quota?: ProjectQuotaBody) {
    return this.request<ProjectView>('POST', '/api/v1/projects', { name, ...(quota ? { quota } : {}) });
  }

  listProjects() {
    return this.request<{ projects: ProjectView[] }>('GET', '/api/v1/projects');
  }

  getProject(name: string) {
    return this.request<ProjectView>('GET', `/api/v1/projects/${encodeURIComponent(name)}`);
  }

  setProjectQuota(name: string, quota: ProjectQuotaBody) {
    return this.request<ProjectView>('PATCH', `/api/v1/projects/${encodeURIComponent(name)}`, { quota });
  }

  removeProject(name: string) {
    return this.request<void>('DELETE', `/api/v1/projects/${encodeURIComponent(name)}`);
  }

  revokeToken(id: string) {
    return this.request<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  }

  /** `verify`: the daemon starts one instance of the new revision now, whatever its scale;
   *  `noTraffic`, `tag`: how the new revision is routed */
  deploy(doc: DeployDocument, opts: DeployOptions = {}) {
    return this.request<DeployResult>('POST', `/api/v1/services${deployQuery(opts)}`, doc);
  }

  /** A new revision with `patch` merged into the latest one's document (null resets a field). */
  update(name: string, patch: DeployPatch, opts: DeployOptions = {}) {
    return this.request<DeployResult>('PATCH', `/api/v1/services/${encodeURIComponent(name)}${deployQuery(opts)}`, patch);
  }

  listServices() {
    return this.request<{ services: ServiceView[] }>('GET', '/api/v1/services');
  }

  service(name: string) {
    return this.request<ServiceView>('GET', `/api/v1/services/${encodeURIComponent(name)}`);
  }

  /** the latest revision's deploy document, image pinned (`skiff export`) */
  serviceDocument(name: string) {
    return this.request<DeployDocument>('GET', `/api/v1/services/${encodeURIComponent(name)}/document`);
  }

  /** The service's recent requests, latency, instances and cold starts, one entry per step (the dashboard's charts). */
  serviceStats(name: string, window: '15m' | '1h' | '6h' = '1h'): Promise<ServiceStatsView> {
    return this.request<ServiceStatsView>('GET', `/api/v1/services/${encodeURIComponent(name)}/stats?window=${window}`);
  }

  /** Every visible service's requests, p50/p99 latency (coarse steps) and cold starts in the window: the Services list's sparklines. */
  servicesStats(window: '15m' | '1h' | '6h' = '1h'): Promise<ServicesStatsView> {
    return this.request<ServicesStatsView>('GET', `/api/v1/stats/services?window=${window}`);
  }

  deleteService(name: string) {
    return this.request<void>('DELETE', `/api/v1/services/${encodeURIComponent(name)}`);
  }

  setTraffic(name: string, traffic: TrafficTarget[]) {
    return this.request<ServiceView>('PUT', `/api/v1/services/${encodeURIComponent(name)}/traffic`, { traffic });
  }

  rollback(name: string, to?: string) {
    return this.request<ServiceView>('POST', `/api/v1/services/${encodeURIComponent(name)}/rollback`, to === undefined ? undefined : { to });
  }

  scale(name: string, bounds: { min?: number; max?: number }) {
    return this.request<ServiceView>('PATCH', `/api/v1/services/${encodeURIComponent(name)}/scaling`, bounds);
  }

  prewarm(name: string, opts: { instances?: number; for?: string }) {
    return this.request<PrewarmResult>('POST', `/api/v1/services/${encodeURIComponent(name)}/prewarm`, opts);
  }

  addTrigger(doc: TriggerDocument) {
    return this.request<TriggerView>('POST', '/api/v1/triggers', doc);
  }

  listTriggers() {
    return this.request<{ triggers: TriggerView[] }>('GET', '/api/v1/triggers');
  }

  trigger(name: string) {
    return this.request<TriggerView>('GET', `/api/v1/triggers/${encodeURIComponent(name)}`);
  }

  pauseTrigger(name: string, paused: boolean) {
    return this.request<TriggerView>('POST', `/api/v1/triggers/${encodeURIComponent(name)}/${paused ? 'pause' : 'resume'}`);
  }

  removeTrigger(name: string) {
    return this.request<void>('DELETE', `/api/v1/triggers/${encodeURIComponent(name)}`);
  }

  deadLetters(trigger: string) {
    return this.request<{ deadLetters: DeadLetterView[] }>('GET', `/api/v1/triggers/${encodeURIComponent(trigger)}/dead-letters`);
  }

  /** `ids` undefined: all of them */
  replayDeadLetters(trigger: string, ids?: string[]) {
    return this.request<{ replayed: string[]; invocations: string[] }>('POST', `/api/v1/triggers/${encodeURIComponent(trigger)}/dead-letters/replay`, ids ? { ids } : {});
  }

  purgeDeadLetters(trigger: string, ids?: string[]) {
    const q = new URLSearchParams();
    for (const id of ids ?? []) q.append('id', id);
    return this.request<{ purged: number }>('DELETE', `/api/v1/triggers/${encodeURIComponent(trigger)}/dead-letters${ids ? `?${q}` : ''}`);
  }

  invoke(service: string, body: InvokeBody) {
    return this.request<InvokeAnswer>('POST', `/api/v1/services/${encodeURIComponent(service)}/invocations`, body);
  }

  invocation(id: string) {
    return this.request<InvocationView>('GET', `/api/v1/invocations/${encodeURIComponent(id)}`);
  }

  addDomain(doc: DomainDocument) {
    return this.request<DomainView>('POST', '/api/v1/domains', doc);
  }

  listDomains() {
    return this.request<{ domains: DomainView[] }>('GET', '/api/v1/domains');
  }

  getDomain(host: string) {
    return this.request<DomainView>('GET', `/api/v1/domains/${encodeURIComponent(host)}`);
  }

  deleteDomain(host: string) {
    return this.request<void>('DELETE', `/api/v1/domains/${encodeURIComponent(host)}`);
  }

  /** a new version of the secret (values go up, never come back: answers carry key names only) */
  setSecret(name: string, body: SecretSetBody) {
    return this.request<SecretView>('PUT', `/api/v1/secrets/${encodeURIComponent(name)}`, body);
  }

  listSecrets() {
    return this.request<{ secrets: SecretView[] }>('GET', '/api/v1/secrets');
  }

  secret(name: string) {
    return this.request<SecretView>('GET', `/api/v1/secrets/${encodeURIComponent(name)}`);
  }

  deleteSecret(name: string) {
    return this.request<void>('DELETE', `/api/v1/secrets/${encodeURIComponent(name)}`);
  }

  createJob(doc: JobDocument) {
    return this.request<JobView>('POST', '/api/v1/jobs', doc);
  }

  listJobs() {
    return this.request<{ jobs: JobView[] }>('GET', '/api/v1/jobs');
  }

  job(name: string) {
    return this.request<JobView>('GET', `/api/v1/jobs/${encodeURIComponent(name)}`);
  }

  /** CONFLICT while an execution runs, unless `force` (which cancels it) */
  deleteJob(name: string, opts: { force?: boolean } = {}) {
    return this.request<void>('DELETE', `/api/v1/jobs/${encodeURIComponent(name)}${opts.force ? '?force=true' : ''}`);
  }

  /** Starts an execution of the job; its tasks run in the background. */
  /** `skiff usage`: the caller's project (an all-projects token: every project, or `project`) */
  usage(q: { project?: string; service?: string; since?: string; until?: string; by?: UsageGrouping } = {}) {
    const qs = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.request<UsageReport>('GET', `/api/v1/usage${qs ? `?${qs}` : ''}`);
  }

  /** `skiff bill`: the invoice of a month (YYYY-MM) */
  bill(month: string, project?: string) {
    const qs = new URLSearchParams({ month, ...(project !== undefined ? { project } : {}) }).toString();
    return this.request<Invoice>('GET', `/api/v1/bill?${qs}`);
  }

  /** `skiff budget set` (operator): monthly is decimal text ("50.00"), soft thresholds in percent ("80%") */
  setBudget(project: string, body: { monthly: string; soft?: string[]; action?: 'notify' | 'cap' | 'stop'; webhook?: string }) {
    return this.request<BudgetStatus>('PUT', `/api/v1/budgets/${encodeURIComponent(project)}`, body);
  }

  /** `skiff budget`: the caller's project's budget (the operator: every project's) */
  listBudgets() {
    return this.request<{ budgets: BudgetStatus[] }>('GET', '/api/v1/budgets');
  }

  getBudget(project: string) {
    return this.request<BudgetStatus>('GET', `/api/v1/budgets/${encodeURIComponent(project)}`);
  }

  deleteBudget(project: string) {
    return this.request<void>('DELETE', `/api/v1/budgets/${encodeURIComponent(project)}`);
  }

  createVolume(body: VolumeCreateBody) {
    return this.request<VolumeView>('POST', '/api/v1/volumes', body);
  }

  listVolumes() {
    return this.request<{ volumes: VolumeView[] }>('GET', '/api/v1/volumes');
  }

  getVolume(name: string) {
    return this.request<VolumeView>('GET', `/api/v1/volumes/${encodeURIComponent(name)}`);
  }

  deleteVolume(name: string) {
    return this.request<void>('DELETE', `/api/v1/volumes/${encodeURIComponent(name)}`);
  }

  /** The volume's files as a tar stream (the response body, to be read by the caller). */
  async exportVolume(name: string, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    return (await this.exchange('GET', `/api/v1/volumes/${encodeURIComponent(name)}/export`, signal ? { signal } : {})) as AsyncIterable<Buffer>;
  }

  /** Streams a tar into the volume (files replaced, directories merged). */
  async importVolume(name: string, tar: Readable) {
    const res = await this.exchange('POST', `/api/v1/volumes/${encodeURIComponent(name)}/import`, { raw: { body: tar, contentType: 'application/x-tar' } });
    return JSON.parse(await readText(res)) as { volume: string; entries: number; dropped: string[] };
  }

  runJob(name: string) {
    return this.request<ExecutionView>('POST', `/api/v1/jobs/${encodeURIComponent(name)}/executions`);
  }

  jobExecution(name: string, id: string) {
    return this.request<ExecutionView>('GET', `/api/v1/jobs/${encodeURIComponent(name)}/executions/${encodeURIComponent(id)}`);
  }

  /** The output of an execution's tasks (the latest one unless `execution`), as text lines. */
  async jobLogs(name: string, opts: { execution?: string; task?: number }, onChunk: (text: string) => void): Promise<void> {
    const q = new URLSearchParams();
    if (opts.execution !== undefined) q.set('execution', opts.execution);
    if (opts.task !== undefined) q.set('task', String(opts.task));
    const res = await this.exchange('GET', `/api/v1/jobs/${encodeURIComponent(name)}/logs?${q}`);
    const decoder = new TextDecoder();
    for await (const chunk of res) onChunk(decoder.decode(chunk as Buffer, { stream: true }));
  }

  /** Streams log lines; resolves when the server ends the stream (never, with follow, until aborted). */
  async logs(name: string, opts: { revision?: string; instance?: string; since?: string; tail?: number; follow?: boolean; signal?: AbortSignal }, onChunk: (text: string) => void): Promise<void> {
    const q = new URLSearchParams();
    if (opts.revision) q.set('revision', opts.revision);
    if (opts.instance) q.set('instance', opts.instance);
    if (opts.since) q.set('since', opts.since);
    if (opts.tail !== undefined) q.set('tail', String(opts.tail));
    if (opts.follow) q.set('follow', 'true');
    const res = await this.exchange('GET', `/api/v1/services/${encodeURIComponent(name)}/logs?${q}`, { signal: opts.signal });
    const decoder = new TextDecoder();
    for await (const chunk of res) onChunk(decoder.decode(chunk as Buffer, { stream: true }));
  }

  /** Runs a one-off container: `onOutput` gets its output as it comes; resolves with how it ended (after
   *  the daemon removed it). Aborting `signal` makes the daemon kill and remove it. */
  async run(req: RunRequest, onOutput: (e: Extract<RunEvent, { stream: string }>) => void, signal?: AbortSignal): Promise<RunExit> {
    const res = await this.exchange('POST', '/api/v1/runs', { json: req, signal });
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of res) {
      const lines = (pending + decoder.decode(chunk as Buffer, { stream: true })).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        const event = JSON.parse(line) as RunEvent;
        if ('exit' in event) return event.exit;
        onOutput(event);
      }
    }
    throw new SkiffError('UNAVAILABLE', 'the run ended without an exit status (did the daemon stop?)');
  }
}

/** Turns an API or registry error body into a SkiffError, keeping the server's code when it is known. */
export function errorFromBody(status: number, text: string): SkiffError {
  let code: string | undefined;
  let message = text.slice(0, 500);
  try {
    const body = JSON.parse(text) as { error?: { code: string; message: string }; errors?: Array<{ code: string; message: string }> };
    const e = body.error ?? body.errors?.[0];
    if (e) ({ code, message } = e);
  } catch {
    /* not JSON: keep the text */
  }
  const known = code !== undefined && code in ERROR_CATALOGUE ? (code as ErrorCode) : status === 401 ? 'UNAUTHORIZED' : 'INTERNAL';
  return new SkiffError(known, message || `HTTP ${status}`);
}

function deployQuery(opts: DeployOptions): string {
  const q = new URLSearchParams();
  if (opts.verify) q.set('verify', 'true');
  if (opts.noTraffic) q.set('noTraffic', 'true');
  if (opts.tag !== undefined) q.set('tag', opts.tag);
  const text = q.toString();
  return text ? `?${text}` : '';
}
