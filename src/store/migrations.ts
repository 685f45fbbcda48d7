// store/migrations: the numbered schema migrations, each written once per dialect, and their two
// runners. Append only: a released migration is never edited (the SQLite text of 1–3 is what earlier
// Skiffs applied; a data dir they left opens and migrates). SQLite keeps its version in
// `PRAGMA user_version`; PostgreSQL in `skiff_migrations`, migrated under an advisory lock.
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { SkiffError } from '../core/errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

// PostgreSQL notes: times and sizes are BIGINT (epoch ms overflow INTEGER); names, tags and digests
// that are compared or ordered are COLLATE "C" so pagination (`tag > $last ORDER BY tag`) means byte
// order as in SQLite, whatever locale the operator's cluster was created with.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry and tokens',
    sqlite: `
      CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        touched_at INTEGER NOT NULL
      );
      CREATE TABLE repositories (
        name TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      );
      -- a blob is readable in a repository only when linked to it (pushed there or mounted)
      CREATE TABLE repo_blobs (
        repo TEXT NOT NULL REFERENCES repositories(name),
        digest TEXT NOT NULL REFERENCES blobs(digest),
        PRIMARY KEY (repo, digest)
      );
      CREATE INDEX repo_blobs_digest ON repo_blobs(digest);
      CREATE TABLE manifests (
        repo TEXT NOT NULL REFERENCES repositories(name),
        digest TEXT NOT NULL REFERENCES blobs(digest),
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        artifact_type TEXT,
        subject TEXT,
        annotations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repo, digest)
      );
      CREATE INDEX manifests_subject ON manifests(repo, subject);
      -- what a manifest references: blobs (config, layers) and child manifests (index entries)
      CREATE TABLE manifest_refs (
        repo TEXT NOT NULL,
        manifest TEXT NOT NULL,
        ref TEXT NOT NULL,
        PRIMARY KEY (repo, manifest, ref)
      );
      CREATE INDEX manifest_refs_ref ON manifest_refs(ref);
      CREATE TABLE tags (
        repo TEXT NOT NULL REFERENCES repositories(name),
        tag TEXT NOT NULL,
        digest TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repo, tag)
      );
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        touched_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
      );
    `,
    postgres: `
      CREATE TABLE blobs (
        digest TEXT COLLATE "C" PRIMARY KEY,
        size BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        touched_at BIGINT NOT NULL
      );
      CREATE TABLE repositories (
        name TEXT COLLATE "C" PRIMARY KEY,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE repo_blobs (
        repo TEXT COLLATE "C" NOT NULL REFERENCES repositories(name),
        digest TEXT COLLATE "C" NOT NULL REFERENCES blobs(digest),
        PRIMARY KEY (repo, digest)
      );
      CREATE INDEX repo_blobs_digest ON repo_blobs(digest);
      CREATE TABLE manifests (
        repo TEXT COLLATE "C" NOT NULL REFERENCES repositories(name),
        digest TEXT COLLATE "C" NOT NULL REFERENCES blobs(digest),
        media_type TEXT NOT NULL,
        size BIGINT NOT NULL,
        artifact_type TEXT,
        subject TEXT COLLATE "C",
        annotations TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (repo, digest)
      );
      CREATE INDEX manifests_subject ON manifests(repo, subject);
      CREATE TABLE manifest_refs (
        repo TEXT COLLATE "C" NOT NULL,
        manifest TEXT COLLATE "C" NOT NULL,
        ref TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (repo, manifest, ref)
      );
      CREATE INDEX manifest_refs_ref ON manifest_refs(ref);
      CREATE TABLE tags (
        repo TEXT COLLATE "C" NOT NULL REFERENCES repositories(name),
        tag TEXT COLLATE "C" NOT NULL,
        digest TEXT COLLATE "C" NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (repo, tag)
      );
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        repo TEXT COLLATE "C" NOT NULL,
        created_at BIGINT NOT NULL,
        touched_at BIGINT NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT
      );
    `,
  },
  {
    version: 2,
    name: 'services, revisions, instances and events',
    sqlite: `
      CREATE TABLE services (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        spec TEXT NOT NULL,
        traffic TEXT NOT NULL,
        latest_revision TEXT NOT NULL,
        previous_serving TEXT,
        generation INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE revisions (
        name TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        generation INTEGER NOT NULL,
        image_ref TEXT NOT NULL,
        image_digest TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (service, generation)
      );
      -- instances the scheduler started; used to re-adopt or clean up after a daemon restart
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        revision TEXT NOT NULL,
        service TEXT NOT NULL,
        state TEXT NOT NULL,
        address TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX instances_revision ON instances(revision);
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT NOT NULL,
        revision TEXT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX events_service ON events(service, id);
    `,
    postgres: `
      CREATE TABLE services (
        name TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT NOT NULL,
        spec TEXT NOT NULL,
        traffic TEXT NOT NULL,
        latest_revision TEXT NOT NULL,
        previous_serving TEXT,
        generation INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE revisions (
        name TEXT COLLATE "C" PRIMARY KEY,
        service TEXT COLLATE "C" NOT NULL,
        generation INTEGER NOT NULL,
        image_ref TEXT NOT NULL,
        image_digest TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (service, generation)
      );
      CREATE TABLE instances (
        id TEXT COLLATE "C" PRIMARY KEY,
        revision TEXT NOT NULL,
        service TEXT NOT NULL,
        state TEXT NOT NULL,
        address TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX instances_revision ON instances(revision);
      CREATE TABLE events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        service TEXT COLLATE "C" NOT NULL,
        revision TEXT,
        at BIGINT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX events_service ON events(service, id);
    `,
  },
  {
    version: 3,
    name: 'keep-alive histograms',
    sqlite: `
      -- each service's idle-time histogram (adaptive keep-alive), JSON, so a restart keeps what was learned
      CREATE TABLE keep_alive (
        service TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE keep_alive (
        service TEXT COLLATE "C" PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'scale bounds on the service, scaling.concurrency, pinned image split',
    // Scale bounds move out of the specs into services.min_scale/max_scale (a revision has none);
    // scaling.containerConcurrency becomes scaling.concurrency; revisions.image_digest held
    // `repo@sha256:…` and is split into image_repository + image_digest. The column defaults only
    // satisfy ALTER TABLE on existing rows (SQLite cannot add a NOT NULL column without one); every
    // row is filled from its spec and every insert names the columns.
    sqlite: `
      ALTER TABLE services ADD COLUMN min_scale INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE services ADD COLUMN max_scale INTEGER NOT NULL DEFAULT 0;
      UPDATE services SET
        min_scale = COALESCE(CAST(json_extract(spec, '$.scaling.minScale') AS INTEGER), 0),
        max_scale = COALESCE(CAST(json_extract(spec, '$.scaling.maxScale') AS INTEGER), 0);
      UPDATE services SET spec = json_remove(spec, '$.scaling.minScale', '$.scaling.maxScale');
      UPDATE revisions SET spec = json_remove(spec, '$.scaling.minScale', '$.scaling.maxScale');
      UPDATE services
        SET spec = json_set(json_remove(spec, '$.scaling.containerConcurrency'), '$.scaling.concurrency', spec -> '$.scaling.containerConcurrency')
        WHERE json_type(spec, '$.scaling.containerConcurrency') IS NOT NULL;
      UPDATE revisions
        SET spec = json_set(json_remove(spec, '$.scaling.containerConcurrency'), '$.scaling.concurrency', spec -> '$.scaling.containerConcurrency')
        WHERE json_type(spec, '$.scaling.containerConcurrency') IS NOT NULL;
      ALTER TABLE revisions ADD COLUMN image_repository TEXT;
      UPDATE revisions SET
        image_repository = substr(image_digest, 1, instr(image_digest, '@') - 1),
        image_digest = substr(image_digest, instr(image_digest, '@') + 1)
        WHERE instr(image_digest, '@') > 0;
    `,
    postgres: `
      ALTER TABLE services
        ADD COLUMN min_scale INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN max_scale INTEGER NOT NULL DEFAULT 0;
      UPDATE services SET
        min_scale = COALESCE((spec::jsonb #>> '{scaling,minScale}')::numeric::integer, 0),
        max_scale = COALESCE((spec::jsonb #>> '{scaling,maxScale}')::numeric::integer, 0);
      UPDATE services SET spec = (spec::jsonb #- '{scaling,minScale}' #- '{scaling,maxScale}')::text;
      UPDATE revisions SET spec = (spec::jsonb #- '{scaling,minScale}' #- '{scaling,maxScale}')::text;
      UPDATE services
        SET spec = jsonb_set(spec::jsonb #- '{scaling,containerConcurrency}', '{scaling,concurrency}', spec::jsonb #> '{scaling,containerConcurrency}')::text
        WHERE spec::jsonb #> '{scaling,containerConcurrency}' IS NOT NULL;
      UPDATE revisions
        SET spec = jsonb_set(spec::jsonb #- '{scaling,containerConcurrency}', '{scaling,concurrency}', spec::jsonb #> '{scaling,containerConcurrency}')::text
        WHERE spec::jsonb #> '{scaling,containerConcurrency}' IS NOT NULL;
      ALTER TABLE revisions ADD COLUMN image_repository TEXT COLLATE "C";
      UPDATE revisions SET
        image_repository = substr(image_digest, 1, strpos(image_digest, '@') - 1),
        image_digest = substr(image_digest, strpos(image_digest, '@') + 1)
        WHERE strpos(image_digest, '@') > 0;
    `,
  },
  {
    version: 5,
    name: 'token names unique per tenant',
    // Earlier Skiffs accepted two tokens of one name; all but one (the smallest id) get their id's first
    // 8 characters appended, so the index can be built and no token is lost.
    sqlite: `
      UPDATE tokens SET name = name || '-' || substr(id, 1, 8)
        WHERE id NOT IN (SELECT MIN(id) FROM tokens GROUP BY tenant, name);
      CREATE UNIQUE INDEX tokens_tenant_name ON tokens(tenant, name);
    `,
    postgres: `
      UPDATE tokens SET name = name || '-' || substr(id, 1, 8)
        WHERE id NOT IN (SELECT MIN(id) FROM tokens GROUP BY tenant, name);
      CREATE UNIQUE INDEX tokens_tenant_name ON tokens(tenant, name);
    `,
  },
  {
    version: 6,
    name: 'the deploy document of each revision',
    // What the user stated, as opposed to the spec with every default filled in: an update carries the
    // stated settings over and lets the unstated ones keep following their defaults (a target that
    // followed the concurrency keeps following it). NULL for revisions deployed before.
    sqlite: `ALTER TABLE revisions ADD COLUMN document TEXT;`,
    postgres: `ALTER TABLE revisions ADD COLUMN document TEXT;`,
  },  {
    version: 7,
    name: 'triggers, invocations and dead letters',
    // Invocations are the durable queue of everything Skiff itself delivers (async HTTP calls, cron
    // fires, replayed dead letters): a row is written before the caller is told "accepted", and a
    // daemon killed mid-delivery finds it again at start. (service, idempotency_key) is unique: NULL
    // keys never collide, in both dialects.
    sqlite: `
      CREATE TABLE triggers (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        delivery TEXT NOT NULL,
        paused INTEGER NOT NULL,
        stats TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE invocations (
        id TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        tenant TEXT NOT NULL,
        trigger TEXT,
        idempotency_key TEXT,
        request TEXT NOT NULL,
        callback TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        delivery TEXT NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        response TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX invocations_idempotency ON invocations(service, idempotency_key);
      CREATE INDEX invocations_due ON invocations(status, next_attempt_at);
      CREATE INDEX invocations_trigger ON invocations(trigger, status);
      CREATE TABLE dead_letters (
        id TEXT PRIMARY KEY,
        trigger TEXT NOT NULL,
        request TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX dead_letters_trigger ON dead_letters(trigger, created_at);
    `,
    postgres: `
      CREATE TABLE triggers (
        name TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        delivery TEXT NOT NULL,
        paused INTEGER NOT NULL,
        stats TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE invocations (
        id TEXT COLLATE "C" PRIMARY KEY,
        service TEXT COLLATE "C" NOT NULL,
        tenant TEXT NOT NULL,
        trigger TEXT COLLATE "C",
        idempotency_key TEXT COLLATE "C",
        request TEXT NOT NULL,
        callback TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        delivery TEXT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        response TEXT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX invocations_idempotency ON invocations(service, idempotency_key);
      CREATE INDEX invocations_due ON invocations(status, next_attempt_at);
      CREATE INDEX invocations_trigger ON invocations(trigger, status);
      CREATE TABLE dead_letters (
        id TEXT COLLATE "C" PRIMARY KEY,
        trigger TEXT COLLATE "C" NOT NULL,
        request TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX dead_letters_trigger ON dead_letters(trigger, created_at);
    `,
  },
  {
    version: 8,
    name: 'jobs, their executions and tasks',
    // A task row appears when the task first starts (an execution of 10,000 tasks is one insert), and
    // holds its attempts as JSON: each task is written by the one flow running it, never by two.
    sqlite: `
      CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        spec TEXT NOT NULL,
        image_repository TEXT NOT NULL,
        image_digest TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE job_executions (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        task_count INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      CREATE INDEX job_executions_job ON job_executions(job, created_at);
      CREATE INDEX job_executions_status ON job_executions(status);
      CREATE TABLE job_tasks (
        execution TEXT NOT NULL,
        task_index INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (execution, task_index)
      );
    `,
    postgres: `
      CREATE TABLE jobs (
        name TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT NOT NULL,
        spec TEXT NOT NULL,
        image_repository TEXT NOT NULL,
        image_digest TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE job_executions (
        id TEXT COLLATE "C" PRIMARY KEY,
        job TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        task_count INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        ended_at BIGINT
      );
      CREATE INDEX job_executions_job ON job_executions(job, created_at);
      CREATE INDEX job_executions_status ON job_executions(status);
      CREATE TABLE job_tasks (
        execution TEXT COLLATE "C" NOT NULL,
        task_index INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (execution, task_index)
      );
    `,
  },
  {
    version: 9,
    name: 'secrets and their versions',
    // A secret is its tenant's: (tenant, name) is the key, so two tenants may each have a `db`. Key names
    // are kept in clear (ls and deploy-time checks read them); the values only sealed (AES-256-GCM under
    // the node key, core/secret-box.ts), with the id of the key that sealed them.
    sqlite: `
      CREATE TABLE secrets (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        latest_version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE secret_versions (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        keys TEXT NOT NULL,
        sealed TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name, version)
      );
    `,
    postgres: `
      CREATE TABLE secrets (
        tenant TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        latest_version INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, name)
      );
      CREATE TABLE secret_versions (
        tenant TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        keys TEXT NOT NULL,
        sealed TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, name, version)
      );
    `,
  },
  {
    version: 10,
    name: 'volumes',
    // Volume names are global (like services), each owned by one tenant; the data lives on the node
    // (runtime/volumes: an ext4 image per volume), the row says what it is.
    sqlite: `
      CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        shared INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX volumes_tenant ON volumes(tenant, name);
    `,
    postgres: `
      CREATE TABLE volumes (
        name TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL,
        size_bytes BIGINT NOT NULL,
        shared INTEGER NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX volumes_tenant ON volumes(tenant, name);
    `,
  },
  {
    version: 11,
    name: 'custom domains',
    // A domain's certificate state is JSON (status, validity, last error, back-off); the certificate
    // and its private key are files in the data dir (0600), never rows.
    sqlite: `
      CREATE TABLE domains (
        host TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        service TEXT NOT NULL,
        redirect_http INTEGER NOT NULL,
        source TEXT NOT NULL,
        certificate TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE domains (
        host TEXT COLLATE "C" PRIMARY KEY,
        tenant TEXT NOT NULL,
        service TEXT COLLATE "C" NOT NULL,
        redirect_http INTEGER NOT NULL,
        source TEXT NOT NULL,
        certificate TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'projects',
    // A project (stored as `tenant` in the older tables) owns services, triggers, jobs, secrets,
    // volumes, domains and registry repositories. Every tenant already named by a row becomes a
    // project, and `default` always exists. Quotas are NULL when unlimited; memory in bytes, CPU in
    // millicores. Admin tokens of `default` were the operator's before projects existed: they keep
    // spanning every project ('*').
    sqlite: `
      CREATE TABLE projects (
        name TEXT PRIMARY KEY,
        quota_instances INTEGER,
        quota_memory_bytes INTEGER,
        quota_cpu_millis INTEGER,
        created_at INTEGER NOT NULL
      );
      INSERT INTO projects (name, created_at) SELECT 'default', CAST(strftime('%s', 'now') AS INTEGER) * 1000;
      INSERT OR IGNORE INTO projects (name, created_at)
        SELECT tenant, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM (SELECT tenant FROM tokens UNION SELECT tenant FROM services UNION SELECT tenant FROM triggers UNION SELECT tenant FROM jobs UNION SELECT tenant FROM secrets UNION SELECT tenant FROM volumes UNION SELECT tenant FROM domains) WHERE tenant <> '*';
      UPDATE tokens SET tenant = '*' WHERE role = 'admin' AND tenant = 'default';
    `,
    postgres: `
      CREATE TABLE projects (
        name TEXT COLLATE "C" PRIMARY KEY,
        quota_instances INTEGER,
        quota_memory_bytes BIGINT,
        quota_cpu_millis INTEGER,
        created_at BIGINT NOT NULL
      );
      INSERT INTO projects (name, created_at) VALUES ('default', (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT);
      INSERT INTO projects (name, created_at)
        SELECT tenant, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT FROM (SELECT tenant FROM tokens UNION SELECT tenant FROM services UNION SELECT tenant FROM triggers UNION SELECT tenant FROM jobs UNION SELECT tenant FROM secrets UNION SELECT tenant FROM volumes UNION SELECT tenant FROM domains) AS t WHERE tenant <> '*'
        ON CONFLICT (name) DO NOTHING;
      UPDATE tokens SET tenant = '*' WHERE role = 'admin' AND tenant = 'default';
    `,
  },
  {
    version: 13,
    name: 'usage minutes',
    // Metering (docs/metering.md): what one instance used in one minute as one daemon run measured it.
    // Rows are upserted with absolute values for the open minute at each flush; `run` keeps a restarted
    // daemon's rows apart from those of the run it replaced (no overwrite, no double count); last_at and
    // cpu_counter_nanos are where the next run picks a re-adopted instance up.
    sqlite: `
      CREATE TABLE usage_minutes (
        minute INTEGER NOT NULL,
        instance TEXT NOT NULL,
        run TEXT NOT NULL,
        tenant TEXT NOT NULL,
        service TEXT NOT NULL,
        revision TEXT NOT NULL,
        billing TEXT NOT NULL,
        cpu_millis INTEGER NOT NULL,
        memory_bytes INTEGER NOT NULL,
        starting_ms INTEGER NOT NULL,
        serving_ms INTEGER NOT NULL,
        idle_ms INTEGER NOT NULL,
        frozen_ms INTEGER NOT NULL,
        busy_ms INTEGER NOT NULL,
        cpu_nanos INTEGER NOT NULL,
        mem_used_kib_ms INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        egress_bytes INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        cpu_counter_nanos INTEGER NOT NULL,
        PRIMARY KEY (minute, instance, run)
      );
      CREATE INDEX usage_minutes_tenant ON usage_minutes (tenant, minute);
      CREATE INDEX usage_minutes_minute ON usage_minutes (minute);
    `,
    postgres: `
      CREATE TABLE usage_minutes (
        minute BIGINT NOT NULL,
        instance TEXT COLLATE "C" NOT NULL,
        run TEXT COLLATE "C" NOT NULL,
        tenant TEXT NOT NULL,
        service TEXT COLLATE "C" NOT NULL,
        revision TEXT COLLATE "C" NOT NULL,
        billing TEXT NOT NULL,
        cpu_millis INTEGER NOT NULL,
        memory_bytes BIGINT NOT NULL,
        starting_ms BIGINT NOT NULL,
        serving_ms BIGINT NOT NULL,
        idle_ms BIGINT NOT NULL,
        frozen_ms BIGINT NOT NULL,
        busy_ms BIGINT NOT NULL,
        cpu_nanos BIGINT NOT NULL,
        mem_used_kib_ms BIGINT NOT NULL,
        requests BIGINT NOT NULL,
        egress_bytes BIGINT NOT NULL,
        last_at BIGINT NOT NULL,
        cpu_counter_nanos BIGINT NOT NULL,
        PRIMARY KEY (minute, instance, run)
      );
      CREATE INDEX usage_minutes_tenant ON usage_minutes (tenant, minute);
      CREATE INDEX usage_minutes_minute ON usage_minutes (minute);
    `,
  },
  {
    version: 14,
    name: 'budgets',
    // A project's monthly budget (core/budgets.ts): the amount and the soft thresholds (percent) as
    // decimal text, never floats; `notified` (JSON array) the thresholds already told in notified_month.
    sqlite: `
      CREATE TABLE budgets (
        project TEXT PRIMARY KEY,
        monthly TEXT NOT NULL,
        soft TEXT NOT NULL,
        action TEXT NOT NULL,
        webhook TEXT,
        notified_month TEXT,
        notified TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE budgets (
        project TEXT COLLATE "C" PRIMARY KEY,
        monthly TEXT NOT NULL,
        soft TEXT NOT NULL,
        action TEXT NOT NULL,
        webhook TEXT,
        notified_month TEXT,
        notified TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
];

function newerThanCode(current: number, latest: number): SkiffError {
  return new SkiffError('CONFIG_INVALID', `store: database schema version ${current} is newer than this Skiff (${latest}); upgrade Skiff`);
}

/** Brings a SQLite database up to the last of `migrations`, one transaction per migration. */
export function migrateSqlite(db: BetterSqlite3.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) throw newerThanCode(current, latest);
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sqlite);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/**
 * Brings a PostgreSQL database up to the last of `migrations`. The whole run is one transaction
 * holding a transaction-level advisory lock, so two processes starting together take turns: the
 * second waits, then (READ COMMITTED, so each statement sees what committed before it) finds the
 * version the first wrote and has nothing left to do. DDL is transactional in PostgreSQL, so a
 * failed migration leaves the schema as it was.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('skiff:migrations', 0))`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS skiff_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at BIGINT NOT NULL
        )`);
      const { rows } = await client.query<{ version: number }>('SELECT COALESCE(MAX(version), 0) AS version FROM skiff_migrations');
      const current = rows[0]?.version ?? 0;
      const latest = migrations.at(-1)?.version ?? 0;
      if (current > latest) throw newerThanCode(current, latest);
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query(m.postgres);
        await client.query('INSERT INTO skiff_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}
