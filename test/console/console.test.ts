import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { SpectraClient } from '../../client/index.ts';
import { consoleUrl } from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import { SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { launchChromium } from '../support/browser.ts';
import { IMMEDIATE_RETRIES, startStackWithApi } from '../support/local-stack.ts';

/**
 * The console in Debian's Chromium, against a local stack of its own: what a person checks when
 * they debug a query there. Every wait is for something on the page (a state's colour, a status,
 * a row) or in the stack (a statement held), never for a length of time.
 *
 * `SPECTRA_CONSOLE_SCREENSHOTS=<folder>` saves what the page shows at each step there
 * (`npm run console:screenshots` writes the README's pictures to docs/console/).
 */

process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const SCREENSHOTS = process.env.SPECTRA_CONSOLE_SCREENSHOTS;
/** Fetch Results' attempts when TransientServiceError outlasts its retries: 1 and 4 retries. */
const FETCH_ATTEMPTS = 5;
/** A bound for the page to show what the test waits for; only a broken console reaches it. */
const PAGE_TIMEOUT_MS = 45_000;

let stack: LocalStack;
let api: StackApi;
let client: SpectraClient;
let browser: Browser;
let page: Page;
let scratch: string | undefined;

/** A folder of this file's own for downloaded files, removed at the end. */
const scratchDir = () => {
  scratch ??= mkdtempSync(join(tmpdir(), 'spectra-console-'));
  return scratch;
};

beforeAll(async () => {
  ({ stack, api } = await startStackWithApi({ retryIntervalOverrides: IMMEDIATE_RETRIES }));
  client = new SpectraClient({ endpoint: stack.url, stateMachineArn: stack.stateMachineArn });
  browser = await launchChromium();
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  client?.destroy();
  api?.destroy();
  await stack?.stop();
});

beforeEach(async () => {
  if (page) await page.context().close();
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
});

async function screenshot(name: string): Promise<void> {
  if (SCREENSHOTS)
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function openExecution(executionArn: string): Promise<void> {
  await page.goto(consoleUrl(stack.url, executionArn));
  await page.locator('.graph [data-state]').first().waitFor();
}

/** A state in the graph, once it shows `outcome`. */
const stateIn = (name: string, outcome: string): Locator =>
  page.locator(`.graph [data-state="${name}"][data-outcome="${outcome}"]`);

const outcomeOf = (name: string) =>
  page.locator(`.graph [data-state="${name}"]`).getAttribute('data-outcome');

const statusBadge = (status: string) => page.locator('.summary .status', { hasText: status });

/** The state table's rows, as text cells. */
async function stateRows(): Promise<string[][]> {
  return page
    .locator('table.states tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')),
    );
}

async function failFetchResults(tenantId: string, sql: string): Promise<string> {
  await api.control('faults', {
    target: 'Lambda.FetchResults',
    error: 'TransientServiceError',
    count: FETCH_ATTEMPTS,
  });
  const { executionArn } = await client.submitQuery({ tenantId, sql });
  const failed = await client.waitForQuery(executionArn, { pollIntervalMs: 50 });
  expect([failed.status, failed.error]).toEqual(['FAILED', 'TransientServiceError']);
  return executionArn;
}

describe('Console: in a browser', () => {
  it('lists a succeeded query and shows the path it took, its states, SQL, session and rows', async () => {
    // Prepare
    const sql = 'select eventid, eventname from event order by eventid limit 3';
    const first = await client.runQuery({ tenantId: 'acme', sql });
    const query = await client.runQuery({ tenantId: 'acme', sql });

    // Act: from the list of executions to the query
    await page.goto(consoleUrl(stack.url));
    const row = page.locator(`tr[data-execution="${query.executionArn}"]`);
    await row.locator('.status', { hasText: 'SUCCEEDED' }).waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('acme');
    await row.getByRole('link').click();
    await stateIn(STATES.fetch, 'succeeded').waitFor();

    // Assess: the path taken is coloured, the rest is not reached
    for (const state of [STATES.acquire, STATES.submit, STATES.release, STATES.succeeded]) {
      expect(await outcomeOf(state), state).toBe('succeeded');
    }
    for (const state of [STATES.poll, STATES.invalidate, STATES.failed]) {
      expect(await outcomeOf(state), state).toBe('not-reached');
    }
    expect((await stateRows()).map((cells) => [cells[0], cells[4]])).toEqual(
      SHORT_QUERY_PATH.map((state) => [state, 'succeeded']),
    );
    expect(await page.locator('.query .sql').textContent()).toBe(sql);
    expect(await page.locator('.query .statement-id').textContent()).toBe(query.result.statementId);
    expect(await page.locator('.query .session').textContent()).toBe(
      `hit: reused ${first.result.sessionId}`,
    );
    const cells = await page
      .locator('.result table.rows tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)),
      );
    expect(cells).toEqual(query.result.rows.map((r) => r.map(String)));
    expect(await page.getByRole('button', { name: 'Redrive' }).isDisabled()).toBe(true);
  });

  it('links a result written to the results bucket, and the link downloads its rows', async () => {
    // Prepare: more rows than the inline budget holds
    const query = await client.runQuery({
      tenantId: 'acme',
      sql: 'select g, md5(g::text) as hash from generate_series(1, 20000) g order by g',
    });
    expect(query.result.result?.rows).toBe(20_000);
    const stored = join(scratchDir(), 'stored.jsonl.gz');
    await query.result.download(stored);

    // Act
    await openExecution(query.executionArn);
    const link = page.locator('.result a.download-link');
    await link.waitFor();
    await screenshot('execution-written-result');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = join(scratchDir(), 'downloaded.jsonl.gz');
    await download.saveAs(saved);

    // Assess: the page says where the rows are, and the file is the rows object, byte for byte
    expect(await page.locator('.result p').first().textContent()).toBe(
      `The first ${query.result.rowCount} of 20000 rows`,
    );
    expect(await page.locator('.result .download').textContent()).toContain(
      'All 20000 rows are in the results bucket',
    );
    const [a, b] = await Promise.all([readFile(saved), readFile(stored)]);
    expect(a.equals(b)).toBe(true);
    const lines = gunzipSync(a).toString('utf8').trimEnd().split('\n');
    expect(lines.length).toBe(20_000);
    expect(lines[0]).toBe('[1,"c4ca4238a0b923820dcc509a6f75849b"]');
  });

  it('marks the Fail state of a query whose SQL failed, and opens its events to the cause', async () => {
    // Prepare
    const { executionArn } = await client.submitQuery({
      tenantId: 'globex',
      sql: 'select * from no_such_table',
    });
    await client.waitForQuery(executionArn, { pollIntervalMs: 50 });

    // Act
    await openExecution(executionArn);
    await stateIn(STATES.failed, 'failed').waitFor();
    const failedEvent = page.locator('.events li[data-event-type="ExecutionFailed"]');
    await failedEvent.locator('summary').click();

    // Assess
    expect(await outcomeOf(STATES.releaseAfterFailure)).toBe('succeeded');
    expect(await outcomeOf(STATES.fetch)).toBe('not-reached');
    expect(await page.getByRole('alert').textContent()).toContain('QueryFailedError');
    const cause = await failedEvent.locator('.field.cause pre').textContent();
    expect(JSON.parse(cause ?? '')).toEqual(
      expect.objectContaining({
        redshiftError: expect.stringContaining('no_such_table'),
        tenantId: 'globex',
      }),
    );
    // Pretty-printed, as a person reads it.
    expect(cause).toContain('\n  "message": ');
    expect(await page.locator('.actions').textContent()).toContain(
      `Redrive runs ${STATES.failed} again, so this query would fail the same way.`,
    );
    await screenshot('execution-failed');
  });

  it('shows a query that recovered through Invalidate Session: Submit Query caught, then run again', async () => {
    // Prepare: the tenant's pooled session is closed behind Spectra's back
    const warm = await client.runQuery({ tenantId: 'initech', sql: 'select 1 as one' });
    await api.control('sessions/expire', { sessionId: warm.result.sessionId });

    // Act
    const recovered = await client.runQuery({ tenantId: 'initech', sql: 'select 2 as two' });
    await openExecution(recovered.executionArn);
    await stateIn(STATES.fetch, 'succeeded').waitFor();

    // Assess
    expect(await outcomeOf(STATES.submit)).toBe('caught');
    expect(await outcomeOf(STATES.invalidate)).toBe('succeeded');
    const visits = (await stateRows()).map((cells) => [cells[0], cells[4], cells[6]]);
    expect(visits.slice(0, 4)).toEqual([
      [STATES.acquire, 'succeeded', ''],
      [STATES.submit, 'caught', 'StaleSessionError'],
      [STATES.invalidate, 'succeeded', ''],
      [STATES.submit, 'succeeded', ''],
    ]);
    expect(await page.locator('.query .session').textContent()).toBe(
      `hit on ${warm.result.sessionId}, which the Data API refused: opened ${recovered.result.sessionId}`,
    );
    await screenshot('execution-recovered');
  });

  it("shows each tenant's pool with its sessions, and the hit rate over time", async () => {
    // Prepare
    const query = await client.runQuery({ tenantId: 'umbrella', sql: 'select 1' });

    // Act
    await page.goto(`${consoleUrl(stack.url)}/sessions`);
    const session = page.locator(
      `.pool[data-tenant="umbrella"] tr[data-session="${query.result.sessionId}"]`,
    );
    await session.waitFor();

    // Assess
    expect(await session.locator('.status').textContent()).toBe('IDLE');
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.locator('.chart').textContent()).toContain('Hit rate');
    await screenshot('sessions');
  });

  it('stops a running query with Stop: it ends ABORTED', async () => {
    // Prepare: the query's statement is held, so it is running when the button is pressed
    const marker = `hold-${randomUUID()}`;
    await api.control('statements/hold', { sqlContains: marker });
    const { executionArn } = await client.submitQuery({
      tenantId: 'acme',
      sql: `select 1 as held -- ${marker}`,
    });
    while ((await api.counters()).redshiftData.statementsHeld < 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Act
    await openExecution(executionArn);
    await statusBadge('RUNNING').waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();

    // Assess
    await statusBadge('ABORTED').waitFor();
    expect((await client.getQuery(executionArn)).status).toBe('ABORTED');
    expect(await page.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);
    await api.control('statements/release', { sqlContains: marker });
  });

  it('redrives a query that failed in Fetch Results with Redrive: it ends SUCCEEDED with its rows', async () => {
    // Prepare
    const executionArn = await failFetchResults('globex', 'select 42 as answer');
    await openExecution(executionArn);
    await stateIn(STATES.fetch, 'failed').waitFor();
    const fetchVisit = (await stateRows()).find((cells) => cells[0] === STATES.fetch);
    expect(fetchVisit?.slice(4)).toEqual([
      'failed',
      String(FETCH_ATTEMPTS - 1),
      'TransientServiceError',
    ]);
    await screenshot('execution-transient-failure');

    // Act
    await page.getByRole('button', { name: 'Redrive' }).click();

    // Assess
    await statusBadge('SUCCEEDED').waitFor();
    await stateIn(STATES.succeeded, 'succeeded').waitFor();
    expect(await outcomeOf(STATES.fetch)).toBe('retried');
    expect(await page.locator('.result table.rows tbody').textContent()).toBe('42');
    expect(await page.locator('.events li[data-event-type="ExecutionRedriven"]').count()).toBe(1);
    expect(await page.locator('.summary').textContent()).toContain('Redrives1');
    await screenshot('execution-redriven');
  });

  it('lists every query newest first, and filters them by status and by tenant', async () => {
    // Prepare: the queries of the tests above, one of them failed for its SQL
    const rows = page.locator('table.executions tbody tr');
    const columns = () =>
      rows.evaluateAll((trs) =>
        trs.map((tr) => ({
          arn: tr.getAttribute('data-execution'),
          status: tr.querySelector('.status')?.textContent,
          tenant: tr.querySelectorAll('td')[2]?.textContent,
        })),
      );
    await page.goto(consoleUrl(stack.url));
    await rows.first().waitFor();
    const all = await columns();
    const started = await Promise.all(
      all.map(async (row) => (await client.getQuery(row.arn ?? '')).startedAt.getTime()),
    );
    expect(started).toEqual([...started].sort((a, b) => b - a));
    await screenshot('executions');

    // Act and assess: by tenant
    const tenantCells = 'table.executions tbody tr td:nth-child(3)';
    await page.locator('input[name="tenant"]').fill('globex');
    await page
      .locator(`${tenantCells}:not(:text-is("globex"))`)
      .first()
      .waitFor({ state: 'detached' });
    const globex = await columns();
    expect(globex.map((row) => row.arn)).toEqual(
      all.filter((row) => row.tenant === 'globex').map((row) => row.arn),
    );

    // Act and assess: and by status
    await page.locator('select[name="status"]').selectOption('FAILED');
    await page
      .locator('table.executions tbody tr .status:not(.FAILED)')
      .first()
      .waitFor({ state: 'detached' });
    const globexFailed = await columns();
    expect(globexFailed.length).toBeGreaterThan(0);
    expect(globexFailed.map((row) => row.arn)).toEqual(
      all.filter((row) => row.status === 'FAILED' && row.tenant === 'globex').map((row) => row.arn),
    );
  });
});
