import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A PostgreSQL server of the local stack's own, for real sessions (the Data API emulator's
 * PostgreSQL engine): `SPECTRA_LOCAL_ENGINE=postgres` runs `npm start` and the demo on one, and the
 * tests and benchmarks that need real sessions use it too. With `SPECTRA_TEST_DATABASE_URL` set,
 * each call gets a fresh database on that server; otherwise each call starts a throwaway cluster
 * from Debian's PostgreSQL binaries, removed again by stop() (or when the process exits).
 *
 * The cluster trusts every local connection (`initdb -A trust`), which the engine's per-role
 * logins need: they carry no password.
 */
export interface PostgresServer {
  /** A superuser URL, e.g. `postgres://postgres@127.0.0.1:54321/postgres`. */
  url: string;
  stop(): Promise<void>;
}

const run = promisify(execFile);

const POSTGRES_LIB = '/usr/lib/postgresql';
const START_ATTEMPTS = 3;

export async function startPostgres(): Promise<PostgresServer> {
  const sharedServerUrl = process.env.SPECTRA_TEST_DATABASE_URL;
  if (sharedServerUrl) return createScratchDatabase(sharedServerUrl);
  return startThrowawayCluster();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of its own on a server someone else runs; dropped again by stop(). */
async function createScratchDatabase(serverUrl: string): Promise<PostgresServer> {
  const database = `spectra_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${database}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    async stop() {
      // FORCE ends the sessions a failed test may have left open.
      await withClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
      );
    },
  };
}

/** The newest `/usr/lib/postgresql/<major>/bin` that has initdb (Debian's layout). */
async function findPostgresBinaries(): Promise<string> {
  const majors = await readdir(POSTGRES_LIB).catch(() => [] as string[]);
  const withInitdb: string[] = [];
  for (const major of majors) {
    const bin = join(POSTGRES_LIB, major, 'bin');
    const present = await readdir(bin).catch(() => [] as string[]);
    if (present.includes('initdb') && present.includes('pg_ctl')) withInitdb.push(major);
  }
  withInitdb.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const newest = withInitdb[0];
  if (newest === undefined) {
    throw new Error(
      `No PostgreSQL server binaries under ${POSTGRES_LIB}/*/bin. Install Debian's postgresql ` +
        'package (apt-get install -y --no-install-recommends postgresql), or set ' +
        'SPECTRA_TEST_DATABASE_URL to a server whose local TCP logins are trusted.',
    );
  }
  return join(POSTGRES_LIB, newest, 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('No TCP port was assigned');
  return address.port;
}

/**
 * PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the `postgres` OS
 * user and its commands run as that user.
 */
const isRoot = process.getuid?.() === 0;

function asClusterOwner(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function runAsClusterOwner(command: string, args: string[]): Promise<void> {
  const [file, argv] = asClusterOwner(command, args);
  await run(file, argv);
}

async function postgresOsUser(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

async function startThrowawayCluster(): Promise<PostgresServer> {
  const bin = await findPostgresBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'spectra-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  /** Set before pg_ctl start: a start that timed out may still leave a postmaster behind. */
  let mayBeRunning = false;

  // If the test process dies before stop(), a daemonised postmaster would outlive it.
  const stopOnExit = () => {
    if (mayBeRunning) {
      const [file, argv] = asClusterOwner(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate']);
      try {
        execFileSync(file, argv, { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);

  try {
    if (isRoot) {
      const owner = await postgresOsUser();
      await chown(dir, owner.uid, owner.gid);
    }
    // Trust auth: the engine's role logins have no password. --no-sync: nothing here must survive
    // a crash.
    await runAsClusterOwner(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);

    // The free port can be taken between the probe and the server's bind; try another one then.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // pg_ctl hands -o to a shell, hence the quotes around the socket directory. The socket
      // lives in the temp dir so that no system directory has to be writable.
      const serverOptions = [
        `-p ${port}`,
        `-k '${dir}'`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' ');
      try {
        mayBeRunning = true;
        await runAsClusterOwner(pgCtl, [
          'start',
          '-D',
          dataDir,
          '-l',
          logFile,
          '-w',
          '-o',
          serverOptions,
        ]);
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          async stop() {
            // Immediate: nothing needs a clean shutdown checkpoint.
            if (mayBeRunning) {
              await runAsClusterOwner(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate']);
            }
            mayBeRunning = false;
            process.removeListener('exit', stopOnExit);
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        mayBeRunning = existsSync(join(dataDir, 'postmaster.pid'));
        if (attempt >= START_ATTEMPTS) {
          const log = await readFile(logFile, 'utf8').catch(() => '(no server log)');
          throw new Error(`PostgreSQL did not start after ${attempt} attempts:\n${log}`, {
            cause: error,
          });
        }
      }
    }
  } catch (error) {
    process.removeListener('exit', stopOnExit);
    stopOnExit();
    throw error;
  }
}
