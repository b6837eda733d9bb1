import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EndedExecution, StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * What the functions write while a query fails, read as whoever reads the function logs would:
 * every line the in-process functions write (Powertools' logger, the Lambda runtime's error line,
 * anything on stdout, stderr or the console), at the most verbose log level, during executions
 * through the local stack whose data Redshift's error text quotes.
 */

/** A value Redshift's (PostgreSQL's) error text quotes back: `invalid input syntax ... "<value>"`. */
const secretOf = (run: string) => `SSN-078-05-1120-${run}`;
const FAILING_SQL = 'select :ssn::integer as ssn_as_number';

export function describeFunctionLogSuite(options: { logSql: boolean }): void {
  const mode = options.logSql ? 'with SPECTRA_LOG_SQL=true' : 'by default';

  describe(`Function logs ${mode}`, () => {
    let stack: LocalStack;
    let api: StackApi;
    const written: string[] = [];
    const run = randomUUID().slice(0, 8);

    beforeAll(async () => {
      process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
      process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
      process.env.SPECTRA_LOG_SQL = String(options.logSql);
      // Every level: nothing may be logged even at TRACE.
      process.env.POWERTOOLS_LOG_LEVEL = 'TRACE';
      const { logger } = await import('../../functions/common/observability.ts');
      logger.setLogLevel('TRACE');
      ({ stack, api } = await startStackWithApi());
    }, 120_000);

    afterAll(async () => {
      api?.destroy();
      await stack?.stop();
    });

    afterEach(async () => {
      vi.restoreAllMocks();
      await api.control('reset');
    });

    /** Records everything written to stdout, stderr and the console from now on. */
    function captureOutput(): void {
      written.length = 0;
      const record = (chunk: unknown) => {
        written.push(
          typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(),
        );
      };
      // Kept, not printed: thousands of TRACE lines would drown the test output.
      for (const stream of [process.stdout, process.stderr]) {
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
          record(chunk);
          return true;
        }) as typeof stream.write);
      }
      for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          record(args.map(String).join(' '));
        });
      }
    }

    /** Runs the execution to its end and until every function it invoked has returned. */
    async function execute(input: unknown): Promise<EndedExecution> {
      const arn = await api.start(randomUUID(), input);
      const ended = await api.waitForEnd(arn, Date.now() + 60_000, 25);
      while ((await api.counters()).lambdaInFlight > 0)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return ended;
    }

    const logText = () => written.join('\n');

    it(`${options.logSql ? 'logs' : 'keeps out of the logs'} the parameter value and SQL of a failing query, which its Cause keeps`, async () => {
      // Prepare
      const secret = secretOf(run);
      captureOutput();

      // Act
      const ended = await execute({
        tenantId: 'acme',
        sql: FAILING_SQL,
        parameters: [{ name: 'ssn', value: secret }],
      });

      // Assess: the execution's Cause has Redshift's message, which quotes the value
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toBe('QueryFailedError');
      expect(String(ended.cause?.redshiftError)).toContain(`"${secret}"`);
      // AND the functions did log this execution: names, ids and sizes
      const text = logText();
      expect(text).toContain('"message":"Submitted statement"');
      expect(text).toContain('"message":"Execution is failing"');
      expect(text).toContain('"error":"QueryFailedError"');
      expect(text).toContain(`"statementId":"${ended.cause?.statementId}"`);
      // AND the value and the SQL appear in the logs only when SPECTRA_LOG_SQL is on
      expect(text.includes(secret)).toBe(options.logSql);
      expect(text.includes(FAILING_SQL)).toBe(options.logSql);
    });

    // With SPECTRA_LOG_SQL on, what the functions log about a refused request is the same; the
    // opt-in only adds the statement's data to the lines that have it, which test 1 checks.
    if (options.logSql) return;

    it('never logs a Data API message that quotes the request, even in the error the runtime logs', async () => {
      // Prepare: the Data API refuses the statement with a message that quotes its parameter, as
      // AWS's request validation can
      const secret = secretOf(`${run}-refused`);
      await api.control('faults', {
        target: 'RedshiftData.ExecuteStatement',
        error: 'ValidationException',
        message: `Value '${secret}' at 'parameters.1.member.value' failed to satisfy constraint`,
      });
      captureOutput();

      // Act
      const ended = await execute({
        tenantId: 'globex',
        sql: 'select :ssn as ssn',
        parameters: [{ name: 'ssn', value: secret }],
      });

      // Assess: the execution ends with the contract's name for a refused statement; the Lambda
      // runtime's error line is in the log, with Spectra's message and not the service's
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toBe('QueryFailedError');
      const text = logText();
      expect(text).toContain('Invoke Error');
      expect(text).toContain(
        'Redshift Data ExecuteStatement refused the statement as invalid: ValidationException (HTTP 400)',
      );
      expect(text).not.toContain(secret);
      expect(JSON.stringify(ended.cause ?? ended.causeText)).not.toContain(secret);
    });
  });
}
