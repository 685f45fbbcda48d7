// store/database: the tables as Kysely sees them — one row type per table, shared by both dialects.
// Rows stay inside store/: repositories map them to the domain records of core/ before returning.
// Times are epoch milliseconds (SQLite INTEGER, PostgreSQL BIGINT parsed as a JS number by postgres.ts);
// specs, traffic and annotations are JSON text in both dialects so one mapping reads both.
import type { Generated, Kysely } from 'kysely';

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
  touched_at: number;
}

export interface RepositoriesTable {
  name: string;
  created_at: number;
}

/** a blob is readable in a repository only when linked to it (pushed there or mounted) */
export interface RepoBlobsTable {
  repo: string;
  digest: string;
}

export interface ManifestsTable {
  repo: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  /** JSON object of strings, or null */
  annotations: string | null;
  created_at: number;
}

/** what a manifest references: blobs (config, layers) and child manifests (index entries) */
export interface ManifestRefsTable {
  repo: string;
  manifest: string;
  ref: string;
}

export interface TagsTable {
  repo: string;
  tag: string;
  digest: string;
  updated_at: number;
}

export interface UploadsTable {
  id: string;
  repo: string;
  created_at: number;
  touched_at: number;
}

export interface TokensTable {
  id: string;
  name: string;
  /** sha256 hex of the secret */
  hash: string;
  tenant: string;
  role: string;
  created_at: number;
  /** never written yet; kept from migration 1 */
  last_used_at: number | null;
}

export interface ServicesTable {
  name: string;
  tenant: string;
  /** ServiceSpec JSON */
  spec: string;
  /** TrafficTarget[] JSON */
  traffic: string;
  latest_revision: string;
  previous_serving: string | null;
  generation: number;
  /** since migration 4 */
  min_scale: number;
  max_scale: number;
  created_at: number;
  updated_at: number;
}

export interface RevisionsTable {
  name: string;
  service: string;
  generation: number;
  /** the reference the user deployed (spec.image) */
  image_ref: string;
  /** since migration 4; null only if a pre-4 row had no `repo@` part to split off */
  image_repository: string | null;
  /** `sha256:…` since migration 4 (before: `repo@sha256:…`) */
  image_digest: string;
  /** ServiceSpec JSON */
  spec: string;
  /** the DeployDocument JSON as deployed (migration 6); null for revisions deployed before */
  document: string | null;
  created_at: number;
}

export interface InstancesTable {
  id: string;
  revision: string;
  service: string;
  state: string;
  address: string | null;
  created_at: number;
  updated_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  service: string;
  revision: string | null;
  at: number;
  kind: string;
  message: string;
}

export interface KeepAliveTable {
  service: string;
  /** opaque JSON of the autoscaler's idle-time histogram */
  state: string;
  updated_at: number;
}

export interface TriggersTable {
  name: string;
  tenant: string;
  /** TriggerSource JSON */
  source: string;
  /** TriggerTarget JSON */
  target: string;
  /** DeliveryPolicy JSON */
  delivery: string;
  /** 0 or 1 */
  paused: number;
  /** TriggerStats JSON */
  stats: string;
  created_at: number;
  updated_at: number;
}

export interface InvocationsTable {
  id: string;
  service: string;
  tenant: string;
  trigger: string | null;
  idempotency_key: string | null;
  /** InvocationRequest JSON */
  request: string;
  callback: string | null;
  status: string;
  attempts: number;
  /** DeliveryPolicy JSON */
  delivery: string;
  next_attempt_at: number;
  /** InvocationResponse JSON */
  response: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeadLettersTable {
  id: string;
  trigger: string;
  /** InvocationRequest JSON */
  request: string;
  attempts: number;
  error: string;
  created_at: number;
}

export interface JobsTable {
  name: string;
  tenant: string;
  /** JobSpec JSON */
  spec: string;
  image_repository: string;
  image_digest: string;
  created_at: number;
}

export interface JobExecutionsTable {
  id: string;
  job: string;
  status: string;
  message: string | null;
  task_count: number;
  created_at: number;
  ended_at: number | null;
}

/** a task of an execution, from its first start */
export interface JobTasksTable {
  execution: string;
  task_index: number;
  status: string;
  /** TaskAttempt[] JSON */
  attempts: string;
  updated_at: number;
}

export interface DomainsTable {
  host: string;
  tenant: string;
  service: string;
  /** 0 or 1 */
  redirect_http: number;
  source: string;
  /** CertificateState JSON */
  certificate: string;
  created_at: number;
  updated_at: number;
}

/** since migration 10 */
export interface VolumesTable {
  name: string;
  tenant: string;
  size_bytes: number;
  /** 0 or 1 */
  shared: number;
  created_at: number;
}

/** a secret of a tenant (migration 9) */
export interface SecretsTable {
  tenant: string;
  name: string;
  latest_version: number;
  created_at: number;
  updated_at: number;
}

/** one version of a secret: key names in clear, values sealed (core/secret-box.ts) */
export interface SecretVersionsTable {
  tenant: string;
  name: string;
  version: number;
  /** string[] JSON */
  keys: string;
  /** base64 of the sealed values */
  sealed: string;
  key_id: string;
  created_at: number;
}

export interface ProjectsTable {
  name: string;
  /** null: no limit */
  quota_instances: number | null;
  quota_memory_bytes: number | null;
  quota_cpu_millis: number | null;
  created_at: number;
}

/** metering (migration 13): one instance's use in one minute, per daemon run (core/usage.ts) */
export interface UsageMinutesTable {
  minute: number;
  instance: string;
  run: string;
  tenant: string;
  service: string;
  revision: string;
  billing: string;
  cpu_millis: number;
  memory_bytes: number;
  starting_ms: number;
  serving_ms: number;
  idle_ms: number;
  frozen_ms: number;
  busy_ms: number;
  cpu_nanos: number;
  mem_used_kib_ms: number;
  requests: number;
  egress_bytes: number;
  last_at: number;
  cpu_counter_nanos: number;
}

/** budgets (migration 14): a project's monthly budget (core/budgets.ts); soft and notified are JSON arrays */
export interface BudgetsTable {
  project: string;
  monthly: string;
  soft: string;
  action: string;
  webhook: string | null;
  notified_month: string | null;
  notified: string;
  created_at: number;
  updated_at: number;
}

export interface Database {
  budgets: BudgetsTable;
  usage_minutes: UsageMinutesTable;
  projects: ProjectsTable;
  blobs: BlobsTable;
  repositories: RepositoriesTable;
  repo_blobs: RepoBlobsTable;
  manifests: ManifestsTable;
  manifest_refs: ManifestRefsTable;
  tags: TagsTable;
  uploads: UploadsTable;
  tokens: TokensTable;
  services: ServicesTable;
  revisions: RevisionsTable;
  instances: InstancesTable;
  events: EventsTable;
  keep_alive: KeepAliveTable;
  triggers: TriggersTable;
  invocations: InvocationsTable;
  dead_letters: DeadLettersTable;
  jobs: JobsTable;
  job_executions: JobExecutionsTable;
  job_tasks: JobTasksTable;
  secrets: SecretsTable;
  secret_versions: SecretVersionsTable;
  volumes: VolumesTable;
  domains: DomainsTable;
}

/** The database or a transaction on it: repositories write their queries against this. */
export type Db = Kysely<Database>;
