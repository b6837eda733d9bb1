import { quietInProcessFunctions } from '../local/quiet-functions.ts';
import { STATES } from '../statemachine/definition.ts';
import {
  formatDuration,
  formatHistory,
  formatRelative,
  formatResultTable,
  formatTable,
} from './format.ts';
import { QueryExecutionError, SpectraClient, type SucceededQuery } from './index.ts';

/**
 * `npm run demo`: starts the local stack in this process and walks through what Spectra does,
 * using the client library as an application would. Each step prints a heading and what happened.
 */

// The functions run in this process; their JSON logs and metrics would bury the story.
quietInProcessFunctions();

const say = (text = '') => console.log(text);
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line === '' ? line : `   ${line}`))
    .join('\n');
const heading = (text: string) => say(`\n${text}\n${'='.repeat(text.length)}`);
const shortId = (id: string | null) => (id === null ? '(none)' : id.slice(0, 8));

const demoStarted = Date.now();
say('Spectra demo: the local stack runs in this process, and the client library talks to it.');
// Imported only now, so that the functions read the settings above when they load.
const { startLocalStack } = await import('../local/stack.ts');
// Port 0: a free port, so the demo never collides with a running `npm start`.
const stack = await startLocalStack({ port: 0 });
say(`Local stack ready at ${stack.url} in ${formatDuration(Date.now() - demoStarted)}.`);

const client = new SpectraClient({ endpoint: stack.url, stateMachineArn: stack.stateMachineArn });
/** Every query that succeeded, for the hit rate at the end. */
const succeeded: SucceededQuery[] = [];

async function run(tenantId: string, sql: string): Promise<SucceededQuery> {
  const query = await client.runQuery({ tenantId, sql }, { pollIntervalMs: 200 });
  succeeded.push(query);
  return query;
}

const sessionText = (query: SucceededQuery) =>
  `${query.result.sessionReused ? 'hit: reused' : 'miss: opened'} session ${shortId(query.result.sessionId)}`;

try {
  heading('1. Two tenants, first query each (miss) then again (hit)');
  say(indent("client.runQuery({ tenantId, sql: 'select count(*) as sales from sales' })\n"));
  const countSql = 'select count(*) as sales from sales';
  const firstRound: string[][] = [];
  for (const label of ['first', 'again']) {
    for (const tenantId of ['acme', 'globex']) {
      const query = await run(tenantId, countSql);
      firstRound.push([
        tenantId,
        label,
        String(query.result.rows[0]?.[0]),
        sessionText(query),
        formatDuration(query.durationMs ?? 0),
      ]);
    }
  }
  say(
    indent(
      formatTable(['TENANT', 'QUERY', 'SALES', 'SESSION', 'TIME'], firstRound, [
        'left',
        'left',
        'right',
        'left',
        'right',
      ]),
    ),
  );
  say(
    indent(
      '\nThe second query of each tenant leases the idle session instead of opening one. Locally\n' +
        'opening is nearly free; on Redshift it means connecting and authenticating first.',
    ),
  );

  heading('2. One tenant, two queries at once');
  // Acquire waits up to 1 s (SPECTRA_ACQUIRE_WAIT_MILLISECONDS) for a leased session: short
  // queries take turns on one session, long ones get a session each.
  for (const { label, seconds } of [
    { label: 'Two short queries', seconds: 0.2 },
    { label: 'Two long queries', seconds: 1.5 },
  ]) {
    const [first, second] = await Promise.all([
      run('acme', `select pg_sleep(${seconds}), 1 as query`),
      run('acme', `select pg_sleep(${seconds}), 2 as query`),
    ]);
    say(indent(`${label} (${seconds} s each):`));
    say(indent(`query 1: ${sessionText(first)} (${formatDuration(first.durationMs ?? 0)})`));
    say(indent(`query 2: ${sessionText(second)} (${formatDuration(second.durationMs ?? 0)})`));
    say(
      indent(
        first.result.sessionId === second.result.sessionId
          ? 'One waited for the other to give the session back rather than open a session.\n'
          : 'One waited 1 s for the busy session, then opened its own: a session runs one\nstatement at a time and is never handed to two queries at once.\n',
      ),
    );
  }
  if (stack.engineKind === 'pglite') {
    say(
      indent(
        '(Embedded PGlite runs one statement at a time, so even on two sessions one query waited\n' +
          'for the other; on Redshift, or on PostgreSQL (SPECTRA_LOCAL_ENGINE=postgres), they run\n' +
          'side by side.)\n',
      ),
    );
  }
  const acmePool = await client.listSessions('acme');
  say(
    indent(
      `acme's pool now:\n${formatTable(
        ['SESSION', 'STATE', 'LAST USED'],
        acmePool.map((s) => [shortId(s.id), s.state, formatRelative(s.lastUsedAt)]),
      )}`,
    ),
  );

  heading("3. A session expires behind Spectra's back");
  const globexPool = await client.listSessions('globex');
  const expiring = globexPool[0]?.id ?? null;
  const expired = await fetch(`${stack.url}/_spectra/sessions/expire`, {
    method: 'POST',
    body: JSON.stringify({ sessionId: expiring }),
  });
  if (!expired.ok) throw new Error(`Could not expire ${expiring}: ${await expired.text()}`);
  say(
    indent(`The Data API closed globex's session ${shortId(expiring)}; the pool still lists it.`),
  );
  const recovered = await run('globex', countSql);
  say(indent(`The next globex query succeeded on ${sessionText(recovered)}. Its path:\n`));
  const visits = await client.getHistory(recovered.executionArn);
  say(indent(formatHistory(visits)));
  const invalidated = visits.some((visit) => visit.state === STATES.invalidate);
  say(
    indent(
      invalidated
        ? `\n${STATES.submit} got StaleSessionError; ${STATES.invalidate} dropped the record and it resubmitted on a new session.`
        : '\n(The expired session was noticed before it was used, so no resubmission was needed.)',
    ),
  );

  heading('4. A bad query fails with a clear error');
  say(indent("client.runQuery({ tenantId: 'acme', sql: 'select * from nope' })"));
  try {
    await run('acme', 'select * from nope');
    say(indent('Unexpected: the query succeeded.'));
  } catch (error) {
    if (!(error instanceof QueryExecutionError)) throw error;
    say(
      indent(
        `throws ${error.name}
` +
          `  errorName  ${error.errorName}
` +
          `  message    ${error.message}
` +
          `  statement  ${error.details.statementId ?? '(none)'}`,
      ),
    );
  }
  const leased = (await client.listSessions('acme')).filter((s) => s.state === 'LEASED');
  say(
    indent(
      `acme's sessions still leased afterwards: ${leased.length} (the failure path released it)`,
    ),
  );

  heading('5. Row-level security keeps tenants apart');
  const rlsSql =
    'select count(*) as sales, count(distinct tenant_id) as tenants, min(tenant_id) as tenant_id from sales';
  say(indent(`The same SQL for two tenants: ${rlsSql}\n`));
  for (const tenantId of ['acme', 'globex']) {
    const query = await run(tenantId, rlsSql);
    say(indent(`${tenantId}:\n${indent(formatResultTable(query.result))}`));
  }
  say(indent("\nEach tenant's database user sees only its own rows of sales."));

  heading('6. Session hit rate so far');
  const hits = succeeded.filter((q) => q.result.sessionReused).length;
  const rate = succeeded.length === 0 ? 0 : Math.round((hits / succeeded.length) * 100);
  say(
    indent(
      `${hits} of the ${succeeded.length} queries that succeeded reused a pooled session (${rate}%).`,
    ),
  );
  const byTenant = new Map<string, { hits: number; total: number }>();
  for (const query of succeeded) {
    const counts = byTenant.get(query.tenantId) ?? { hits: 0, total: 0 };
    counts.total++;
    if (query.result.sessionReused) counts.hits++;
    byTenant.set(query.tenantId, counts);
  }
  say(
    indent(
      formatTable(
        ['TENANT', 'QUERIES', 'HITS'],
        [...byTenant].map(([tenant, c]) => [tenant, String(c.total), String(c.hits)]),
        ['left', 'right', 'right'],
      ),
    ),
  );
  say(
    indent(
      '\nMisses are first queries, the long query that found the session busy, and the expired session.',
    ),
  );
} finally {
  client.destroy();
  await stack.stop();
}
say(`\nDone in ${formatDuration(Date.now() - demoStarted)}; the local stack is stopped.`);
