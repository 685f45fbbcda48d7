// test/helpers/postgres: a real PostgreSQL server for one test file, in a temp dir: initdb (trust auth,
// no fsync), pg_ctl start on a free 127.0.0.1 port with its unix socket inside the dir, a fresh
// database per test (CREATE DATABASE), and `pg_ctl -m immediate stop` + removal of the dir in an
// after-hook that runs even when tests fail (and, failing that, when the process exits).
// The server binaries live in /usr/lib/postgresql/<major>/bin on Debian (not on PATH); as root they
// must run as the `postgres` user, since the server refuses to run as root.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { freePort, isCI, isRoot, run } from './tools.ts';

interface Binaries {
  dir: string;
  major: number;
}

function findBinaries(): Binaries | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .map(Number)
        .filter((v) => Number.isInteger(v) && existsSync(path.join(root, String(v), 'bin', 'initdb')) && existsSync(path.join(root, String(v), 'bin', 'pg_ctl')))
        .sort((a, b) => b - a)
    : [];
  if (versions[0] !== undefined) return { dir: path.join(root, String(versions[0]), 'bin'), major: versions[0] };
  // other layouts (a source build, another distribution) put them on PATH
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) {
      const out = spawnSync(path.join(dir, 'pg_ctl'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
      return { dir, major: Number(/(\d+)/.exec(out)?.[1] ?? 0) };
    }
  }
  return undefined;
}

/**
 * Use as `describe(name, { skip: requirePostgres() }, ...)`: undefined when a server can be started;
 * outside CI a skip reason when the binaries are missing; under CI a missing server fails the file
 * naming the Debian package.
 */
export function requirePostgres(): string | undefined {
  if (findBinaries()) return undefined;
  if (!isCI) return 'needs the PostgreSQL server binaries (Debian package postgresql)';
  throw new Error('initdb/pg_ctl not found under /usr/lib/postgresql/*/bin or on PATH: apt-get install postgresql');
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root needs a `postgres` user to run the server (it refuses root): apt-get install postgresql');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** the command line that runs `program` as the server's user */
function asServerUser(bin: Binaries, program: string, args: string[]): [string, string[]] {
  const full = path.join(bin.dir, program);
  return isRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
}

export interface PostgresServer {
  readonly port: number;
  /** a new empty database on the server; its postgres:// URL */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** `durable`: fsync and synchronous commit on, as a production server runs (benchmarks); tests turn
 *  them off for speed. */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<PostgresServer> {
  const bin = findBinaries();
  if (!bin) throw new Error('PostgreSQL server binaries not found: apt-get install postgresql');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-pg-'));
  if (isRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  let started = false;
  let admin: pg.Client | undefined;
  const stopSync = (): void => {
    if (started) {
      const [cmd, args] = asServerUser(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-s', 'stop']);
      spawnSync(cmd, args, { stdio: 'ignore' });
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // last resort when the after-hook never runs (an uncaught error ends the process)
  process.once('exit', stopSync);

  try {
    // ICU's en-US as the cluster's default collation (as many operators' clusters have): ordering
    // that is byte order only by accident of a C locale would show up in the tests.
    const locale = bin.major >= 15 ? ['--locale-provider=icu', '--icu-locale=en-US', '--locale=C.UTF-8'] : ['--no-locale'];
    const [initCmd, initArgs] = asServerUser(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions', ...locale]);
    await run(initCmd, initArgs);
    let port = 0;
    // A free port can be taken between freePort() and the server binding it: try another.
    for (let attempt = 1; !started; attempt++) {
      port = await freePort();
      const speed = opts.durable ? '' : '-F -c full_page_writes=off -c synchronous_commit=off ';
      const options = `${speed}-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c max_connections=200`;
      const [cmd, args] = asServerUser(bin, 'pg_ctl', ['-D', data, '-w', '-s', '-t', '30', '-l', path.join(dir, 'server.log'), '-o', options, 'start']);
      try {
        await run(cmd, args);
        started = true;
      } catch (err) {
        if (attempt >= 3) throw new Error(`${String(err)}\n${readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000)}`);
      }
    }
    let next = 0;
    const base = `postgres://postgres@127.0.0.1:${port}`;
    // FILE_COPY copies the template's files (cheap with fsync off) instead of WAL-logging every page
    const strategy = bin.major >= 15 ? ' STRATEGY = FILE_COPY' : '';
    const make = async (): Promise<string> => {
      if (!admin) {
        admin = new pg.Client({ connectionString: `${base}/postgres` });
        await admin.connect();
      }
      const name = `skiff_test_${++next}`;
      await admin.query(`CREATE DATABASE ${name}${strategy}`);
      return `${base}/${name}`;
    };
    // the next test's database is made while the current test runs
    let spare: Promise<string> | undefined;
    return {
      port,
      createDatabase() {
        const url = spare ?? make();
        spare = url.then(make, make);
        spare.catch(() => {});
        return url;
      },
      async stop() {
        await spare?.catch(() => {});
        await admin?.end().catch(() => {});
        stopSync();
        process.removeListener('exit', stopSync);
      },
    };
  } catch (err) {
    stopSync();
    process.removeListener('exit', stopSync);
    throw err;
  }
}

/** Starts a server before the tests of the enclosing file or describe and stops it after them. */
export function usePostgres(): { createDatabase(): Promise<string>; readonly port: number } {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  const get = (): PostgresServer => {
    if (!server) throw new Error('the PostgreSQL server is not running (usePostgres() starts it in a before hook)');
    return server;
  };
  return {
    createDatabase: () => get().createDatabase(),
    get port() {
      return get().port;
    },
  };
}

