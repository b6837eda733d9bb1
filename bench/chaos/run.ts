import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';
import { type ChaosOptions, runChaos } from './chaos.ts';
import { formatReport } from './report.ts';

/**
 * `npm run chaos` (`tsx bench/chaos/run.ts`): the reliability suite's chaos run against an
 * in-process local stack. Prints the faults, outcomes and invariants, writes
 * bench/results/chaos.json (or chaos-quick.json), and exits 1 when an invariant is broken.
 *
 *   --quick            a short run (under a minute)
 *   --seed N           repeat a run's plan (the seed is printed either way)
 *   --executions K     executions in all (half INSERTs, half SELECTs)
 *   --tenants T
 *   --concurrency C    jobs at a time
 *   --engine postgres  run the Data API emulator on PostgreSQL (a throwaway cluster from
 *                      Debian's binaries, or SPECTRA_TEST_DATABASE_URL) instead of PGlite
 *   --database-url URL run it on this PostgreSQL server instead
 *   --out PATH         where to write the JSON report
 */

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const USAGE =
  'usage: tsx bench/chaos/run.ts [--quick] [--seed N] [--executions K] [--tenants T] [--concurrency C] [--engine pglite|postgres] [--database-url URL] [--out PATH]';

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!arg.startsWith('--')) usage(`Unexpected argument ${arg}`);
    const key = arg.slice(2);
    if (key === 'quick') args.set(key, true);
    else {
      const value = argv[++i];
      if (value === undefined) usage(`--${key} needs a value`);
      args.set(key, value);
    }
  }
  const known = new Set([
    'quick',
    'seed',
    'executions',
    'tenants',
    'concurrency',
    'engine',
    'database-url',
    'out',
  ]);
  for (const key of args.keys()) if (!known.has(key)) usage(`Unknown option --${key}`);
  const integer = (key: string, fallback: number, min: number) => {
    const raw = args.get(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) usage(`--${key} must be a whole number >= ${min}`);
    return value;
  };
  return { args, integer };
}

const { args, integer } = parseArgs(process.argv.slice(2));
const quick = args.get('quick') === true;
const seed = integer('seed', Math.floor(Math.random() * 1_000_000), 0);
const options: ChaosOptions = quick
  ? {
      seed,
      executions: integer('executions', 80, 2),
      tenants: integer('tenants', 3, 1),
      concurrency: integer('concurrency', 8, 1),
      maxDataApiSessions: 5,
      faultIntervalMs: [60, 180],
      slowInsertShare: 0.15,
      dirtyShare: 0.1,
      executionTimeoutMs: 120_000,
      badInputs: true,
    }
  : {
      seed,
      executions: integer('executions', 600, 2),
      tenants: integer('tenants', 6, 1),
      concurrency: integer('concurrency', 12, 1),
      maxDataApiSessions: 10,
      faultIntervalMs: [80, 260],
      slowInsertShare: 0.1,
      dirtyShare: 0.1,
      executionTimeoutMs: 180_000,
      badInputs: true,
    };
const engine = args.get('engine') ?? 'pglite';
if (engine !== 'pglite' && engine !== 'postgres') usage('--engine must be pglite or postgres');
const databaseUrl = args.get('database-url');
let server: PostgresServer | undefined;
if (typeof databaseUrl === 'string') options.databaseUrl = databaseUrl;
else if (engine === 'postgres') {
  server = await startPostgres();
  options.databaseUrl = server.url;
}
const out = resolve(
  repoRoot,
  String(args.get('out') ?? `bench/results/${quick ? 'chaos-quick' : 'chaos'}.json`),
);

console.log(`chaos: seed ${seed}${quick ? ' (quick)' : ''}; repeat with --seed ${seed}`);
const report = await runChaos({ ...options, log: (line) => console.log(line) }).finally(() =>
  server?.stop(),
);
console.log('');
console.log(formatReport(report));
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nWrote ${out}`);
const holds = Object.values(report.invariants).every((invariant) => invariant.holds);
process.exit(holds ? 0 : 1);
