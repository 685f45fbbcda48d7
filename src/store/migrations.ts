// store/migrations: ordered schema migrations. Append only: a released migration is never edited.
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry and tokens',
    sql: `
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
  },
  {
    version: 2,
    name: 'services, revisions, instances and events',
    sql: `
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
  },
  {
    version: 3,
    name: 'keep-alive histograms',
    sql: `
      -- each service's idle-time histogram (adaptive keep-alive), JSON, so a restart keeps what was learned
      CREATE TABLE keep_alive (
        service TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];
