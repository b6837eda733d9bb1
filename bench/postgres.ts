import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';

/**
 * The PostgreSQL server behind the Data API emulator when the benchmark runs on PostgreSQL: the
 * throwaway cluster of local/postgres-cluster.ts, with room for as many connections as the
 * Data API allows sessions.
 *
 * Each Data API session is a connection, and a design that orphans sessions (the single cached
 * session overwrites the one another query still uses) leaves them open until their keep-alive
 * runs out, as on AWS, where they count against the 500-session limit. PostgreSQL's default of
 * 100 connections would refuse them first and turn the comparison into a test of PostgreSQL.
 */

const POSTGRES_LIB = '/usr/lib/postgresql';
/** The Data API's 500 sessions, the engine's own connections and PostgreSQL's reserved ones. */
export const BENCH_MAX_CONNECTIONS = 600;

/**
 * Runs a command with no pipes to it: pg_ctl's postmaster outlives the command, and would hold an
 * inherited stdout pipe open (and a caller waiting on it) for as long as it runs.
 */
function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** The newest Debian PostgreSQL with server binaries, as the test helper picks it. */
export function newestPostgresBin(): { version: string; bin: string } | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const version = readdirSync(POSTGRES_LIB)
    .filter((major) => existsSync(join(POSTGRES_LIB, major, 'bin', 'pg_ctl')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))[0];
  return version === undefined ? undefined : { version, bin: join(POSTGRES_LIB, version, 'bin') };
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function maxConnections(url: string): Promise<number> {
  const [row] = await query<{ max_connections: string }>(url, 'SHOW max_connections');
  return Number(row?.max_connections);
}

export interface BenchPostgres {
  url: string;
  detail: string;
  stop(): Promise<void>;
}

/** Starts the throwaway cluster and restarts it with {@link BENCH_MAX_CONNECTIONS}. */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const found = newestPostgresBin();
  if (!found) throw new Error(`No PostgreSQL server binaries under ${POSTGRES_LIB}`);
  const { startPostgres } = await import('../local/postgres-cluster.ts');
  const server = await startPostgres();
  try {
    await query(server.url, `ALTER SYSTEM SET max_connections = ${BENCH_MAX_CONNECTIONS}`);
    const [row] = await query<{ data_directory: string }>(server.url, 'SHOW data_directory');
    if (!row) throw new Error('SHOW data_directory returned nothing');
    // pg_ctl restart keeps the options the helper started the server with (postmaster.opts). The
    // server refuses to run as root, so as root (CI) it runs as the cluster's owner, as in the helper.
    // The log goes where the helper's start sent it, beside the data directory.
    const pgCtl = [
      join(found.bin, 'pg_ctl'),
      'restart',
      '-D',
      row.data_directory,
      '-l',
      join(dirname(row.data_directory), 'server.log'),
      '-m',
      'fast',
      '-w',
    ];
    const [file, ...args] =
      process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
    await run(file as string, args);
    const allowed = await maxConnections(server.url);
    if (allowed < BENCH_MAX_CONNECTIONS)
      throw new Error(`max_connections is ${allowed} after the restart`);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  return {
    url: server.url,
    detail: `PostgreSQL ${found.version}, a throwaway local cluster (max_connections ${BENCH_MAX_CONNECTIONS}; one connection per Data API session, statements run in parallel)`,
    stop: () => server.stop(),
  };
}

/** A server someone else runs (SPECTRA_LOCAL_DATABASE_URL): checked, not changed. */
export async function externalPostgres(url: string): Promise<BenchPostgres> {
  const allowed = await maxConnections(url);
  return {
    url,
    detail: `PostgreSQL at SPECTRA_LOCAL_DATABASE_URL (max_connections ${allowed}${allowed < BENCH_MAX_CONNECTIONS ? `, under the ${BENCH_MAX_CONNECTIONS} the single-session variant may need` : ''})`,
    stop: async () => {},
  };
}
