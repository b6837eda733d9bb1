import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { EngineConnection, SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { rotate } from '../phases/context.ts';
import { median, round, type Spread, spreadOf } from '../stats.ts';

/**
 * What keeping sessions apart costs the embedded engine (PGlite, one backend for every session;
 * local/redshift-data/pglite-sessions.ts): the time per statement when consecutive statements come
 * from one session, and when they alternate between two, where every statement is a switch (the
 * leaving session's settings are read and reset, its temporary tables renamed away, the arriving
 * session's put back). Measured in one run against the engine as it was before sessions were kept
 * apart (`--baseline`, a commit; its engine is read from git into a temporary folder), interleaved round by round so that both see the same machine.
 *
 *   npx tsx bench/experiments/pglite-isolation.ts [--statements 300] [--rounds 7] [--baseline <commit>]
 *
 * Statements run as the Data API emulator runs them (`commitIf`: each in a transaction of its
 * own). "Sessions with state" have each made a setting, a custom setting and a temporary table
 * with a sequence and an index, so a switch renames three relations each way. Writes
 * bench/results/pglite-isolation.json and .md.
 */

/** The last commit whose PGlite engine shared settings and temporary tables between sessions. */
const BASELINE_COMMIT = '0d0fabcde54488d5ef3c5a7628901a1522dee3f1';

const { values } = parseArgs({
  options: {
    statements: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '7' },
    baseline: { type: 'string', default: BASELINE_COMMIT },
  },
});
function wholeNumber(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} takes a whole number of at least ${min}; got "${raw}"`);
  return value;
}
const statements = wholeNumber('statements', values.statements, 2);
const rounds = wholeNumber('rounds', values.rounds, 1);
const baselineRef = values.baseline ?? BASELINE_COMMIT;

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const run = promisify(execFile);
const log = (line: string) => console.log(line);

/**
 * The baseline engine's files at `ref`, in a temporary folder whose node_modules is the repo's,
 * so that PGlite and tsx resolve there as here.
 */
async function checkOutBaseline(ref: string): Promise<{ dir: string; commit: string }> {
  const { stdout } = await run('git', ['-C', repoRoot, 'rev-parse', '--verify', `${ref}^{commit}`]);
  const commit = stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'spectra-pglite-baseline-'));
  const archive = join(dir, 'baseline.tar');
  // The engine, the shared code it imports, and package.json (ES modules, `#common/*`).
  await run('git', [
    '-C',
    repoRoot,
    'archive',
    '-o',
    archive,
    commit,
    'package.json',
    'local/redshift-data',
    'functions/common',
  ]);
  await run('tar', ['-xf', archive, '-C', dir]);
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, commit };
}

type EngineName = 'baseline' | 'isolated';
const ENGINES: EngineName[] = ['baseline', 'isolated'];

interface Scenario {
  key: string;
  label: string;
  /** Which of the engine's connections runs statement `i`. */
  pick: (connections: EngineSessions, i: number) => EngineConnection;
}

/** Each engine's sessions: two clean, two that made settings and a temporary table. */
interface EngineSessions {
  clean: [EngineConnection, EngineConnection];
  stateful: [EngineConnection, EngineConnection];
}

const SCENARIOS: Scenario[] = [
  { key: 'sameClean', label: 'one session', pick: (s) => s.clean[0] },
  {
    key: 'alternatingClean',
    label: 'two sessions, alternating',
    pick: (s, i) => s.clean[i % 2] as EngineConnection,
  },
  { key: 'sameStateful', label: 'one session with state', pick: (s) => s.stateful[0] },
  {
    key: 'alternatingStateful',
    label: 'two sessions with state, alternating',
    pick: (s, i) => s.stateful[i % 2] as EngineConnection,
  },
];

const always = () => true;

async function openSessions(engine: SqlEngine): Promise<EngineSessions> {
  const users = ['bench_iso_a', 'bench_iso_b'];
  for (const user of users) await engine.createUser(user);
  const connect = (user: string) => engine.connect(user);
  const sessions: EngineSessions = {
    clean: [await connect('bench_iso_a'), await connect('bench_iso_b')],
    stateful: [await connect('bench_iso_a'), await connect('bench_iso_b')],
  };
  for (const [index, connection] of sessions.stateful.entries()) {
    const tag = index === 0 ? 'a' : 'b';
    // Distinct names: on the baseline both sessions see each other's temporary tables.
    for (const sql of [
      `set application_name = 'bench-${tag}'`,
      `set bench.marker = '${tag}'`,
      `create temp table bench_state_${tag} (id serial primary key, note text)`,
    ])
      await connection.run(sql, [], { commitIf: always });
  }
  return sessions;
}

/** Whether each stateful session still sees its own marker after the other's statements. */
async function keepsSessionsApart(sessions: EngineSessions): Promise<boolean> {
  const markers: unknown[] = [];
  for (const connection of sessions.stateful) {
    const { rows } = await connection.run("select current_setting('bench.marker', true)", [], {
      commitIf: always,
    });
    markers.push(rows[0]?.[0]);
  }
  return markers[0] === 'a' && markers[1] === 'b';
}

/**
 * The median time of `count` statements of `scenario`, in milliseconds: a median, so that the
 * moments a shared machine takes the CPU away do not decide the figure.
 */
async function timeScenario(
  sessions: EngineSessions,
  scenario: Scenario,
  count: number,
): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await scenario.pick(sessions, i).run('select $1::int as n', [String(i)], { commitIf: always });
    durations.push(performance.now() - started);
  }
  return median(durations);
}

const baseline = await checkOutBaseline(baselineRef);
const engines = new Map<EngineName, { engine: SqlEngine; sessions: EngineSessions }>();
try {
  log(`Baseline: the PGlite engine at ${baseline.commit.slice(0, 12)}; isolated: this checkout's`);
  const modules: Record<EngineName, string> = {
    baseline: join(baseline.dir, 'local/redshift-data/pglite-engine.ts'),
    isolated: join(repoRoot, 'local/redshift-data/pglite-engine.ts'),
  };
  for (const name of ENGINES) {
    const { createPgliteEngine } = (await import(modules[name])) as {
      createPgliteEngine: () => Promise<SqlEngine>;
    };
    const engine = await createPgliteEngine();
    engines.set(name, { engine, sessions: await openSessions(engine) });
  }
  const isolation = Object.fromEntries(
    await Promise.all(
      ENGINES.map(async (name) => [
        name,
        await keepsSessionsApart((engines.get(name) as { sessions: EngineSessions }).sessions),
      ]),
    ),
  ) as Record<EngineName, boolean>;
  log(
    `Sessions kept apart: baseline ${isolation.baseline ? 'yes' : 'no'}, isolated ${isolation.isolated ? 'yes' : 'no'}`,
  );
  if (!isolation.isolated) throw new Error('The isolated engine let one session see another');

  const samples = new Map<string, number[]>();
  const sampleKey = (engine: EngineName, scenario: Scenario) => `${engine}/${scenario.key}`;
  // A warm-up round, discarded: the first statements pay for plans and caches.
  for (const name of ENGINES)
    for (const scenario of SCENARIOS)
      await timeScenario(
        (engines.get(name) as { sessions: EngineSessions }).sessions,
        scenario,
        50,
      );
  for (let r = 0; r < rounds; r++) {
    for (const name of rotate(ENGINES, r)) {
      const { sessions } = engines.get(name) as { sessions: EngineSessions };
      for (const scenario of rotate(SCENARIOS, r)) {
        const perStatement = await timeScenario(sessions, scenario, statements);
        const key = sampleKey(name, scenario);
        samples.set(key, [...(samples.get(key) ?? []), perStatement]);
      }
    }
    log(`  round ${r + 1}/${rounds} done`);
  }

  const spread = (engine: EngineName, scenario: Scenario): Spread =>
    spreadOf(samples.get(sampleKey(engine, scenario)) ?? []);
  const reference = spread('baseline', SCENARIOS[0] as Scenario).median;
  const rows = SCENARIOS.map((scenario) => {
    const before = spread('baseline', scenario);
    const after = spread('isolated', scenario);
    return {
      scenario: scenario.key,
      label: scenario.label,
      baselineMs: before,
      isolatedMs: after,
      /** Isolated over baseline, the same workload. */
      ratio: after.median / before.median,
      /** Isolated over the baseline's one-session case. */
      ratioToBaselineOneSession: after.median / reference,
    };
  });
  const byKey = new Map(rows.map((row) => [row.scenario, row]));
  const medianOf = (key: string, engine: 'baselineMs' | 'isolatedMs') =>
    byKey.get(key)?.[engine].median ?? Number.NaN;
  /** Every statement of an alternating run is a switch: its extra time is the switch's cost. */
  const switchCost = (suffix: 'Clean' | 'Stateful') =>
    medianOf(`alternating${suffix}`, 'isolatedMs') -
    medianOf(`same${suffix}`, 'isolatedMs') -
    (medianOf(`alternating${suffix}`, 'baselineMs') - medianOf(`same${suffix}`, 'baselineMs'));
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    baselineCommit: baseline.commit,
    statementsPerRun: statements,
    rounds,
    statement: 'select $1::int as n, each in a transaction of its own (commitIf)',
    figure: "each run's median statement time (ms); median, min and max over the rounds",
    sessionsKeptApart: isolation,
    scenarios: rows,
    switchCostMs: { clean: switchCost('Clean'), withState: switchCost('Stateful') },
  };

  const ms = (value: number) => `${value.toFixed(2)} ms`;
  const table = rows
    .map(
      (row) =>
        `| ${row.label} | ${ms(row.baselineMs.median)} (${ms(row.baselineMs.min)}–${ms(row.baselineMs.max)}) | ${ms(row.isolatedMs.median)} (${ms(row.isolatedMs.min)}–${ms(row.isolatedMs.max)}) | ${row.ratio.toFixed(2)} | ${row.ratioToBaselineOneSession.toFixed(2)} |`,
    )
    .join('\n');
  const markdown = `# PGlite session isolation: its cost per statement

${results.date}, Node ${process.version}. Baseline: the engine at ${baseline.commit.slice(0, 12)}, where every session shared settings and temporary tables; isolated: the engine that keeps them per session. ${statements} statements per run (\`select $1::int\`, each in a transaction of its own, as the emulator runs them); each figure is the median statement time of a run, the median of ${rounds} rounds interleaved between the engines (the rounds' range in brackets). Sessions with state have each made two settings and a temporary table with a sequence and an index.

| statements from | baseline | isolated | isolated / baseline | isolated / baseline's one session |
| --- | --- | --- | --- | --- |
${table}

A switch between sessions (every statement of an alternating run) costs ${ms(results.switchCostMs.clean)} more than on the baseline between clean sessions, ${ms(results.switchCostMs.withState)} between sessions with state.
`;
  const outDir = resolve(repoRoot, 'bench/results');
  await mkdir(outDir, { recursive: true });
  await writeFile(
    resolve(outDir, 'pglite-isolation.json'),
    `${JSON.stringify(
      results,
      (_key, value) => (typeof value === 'number' ? round(value, 4) : value),
      2,
    )}\n`,
  );
  await writeFile(resolve(outDir, 'pglite-isolation.md'), markdown);
  console.log(`\n${markdown}\nWrote bench/results/pglite-isolation.json and .md`);
} finally {
  for (const { engine } of engines.values()) await engine.close().catch(() => undefined);
  await rm(baseline.dir, { recursive: true, force: true });
}
process.exit(0);
