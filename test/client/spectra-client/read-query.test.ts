import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  failureOf,
  type Query,
  QueryExecutionError,
  QueryNotFinishedError,
  QueryNotFoundError,
  type QueryProgress,
} from '../../../client/index.ts';
import { STATES } from '../../../statemachine/definition.ts';
import { sfn } from '../../support/mocked-clients.ts';
import * as fx from './fixtures.ts';

/**
 * Reading a query back with SpectraClient against mocked Step Functions: its status and result,
 * waiting for its end, its failure and its history.
 */

describe('Class: SpectraClient', () => {
  describe('Method: getQuery', () => {
    it('reads the status, timing, input and result of a succeeded query', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: fx.EXECUTION_ARN,
        name: 'run-1',
        status: 'SUCCEEDED',
        startDate: fx.STARTED,
        stopDate: fx.STOPPED,
        input: JSON.stringify(fx.INPUT),
        output: JSON.stringify(fx.OUTPUT),
      });

      // Act
      const query = await fx.newClient().getQuery(fx.EXECUTION_ARN);

      // Assess
      expect(query).toEqual({
        executionArn: fx.EXECUTION_ARN,
        name: 'run-1',
        status: 'SUCCEEDED',
        startedAt: fx.STARTED,
        stoppedAt: fx.STOPPED,
        durationMs: 1250,
        tenantId: 'acme',
        sql: fx.INPUT.sql,
        result: fx.OUTPUT,
        redriveCount: 0,
      });
    });

    it('parses the JSON cause of a failed query', async () => {
      // Prepare
      const cause = {
        message: 'The statement failed: ERROR: relation "nope" does not exist',
        tenantId: 'acme',
        statementId: 'st-1',
        redshiftError: 'ERROR: relation "nope" does not exist',
      };
      sfn.on(DescribeExecutionCommand).resolves(fx.failedExecution(cause));

      // Act
      const query = await fx.newClient().getQuery(fx.EXECUTION_ARN);

      // Assess
      expect(query).toEqual(
        expect.objectContaining({ status: 'FAILED', error: 'QueryFailedError', cause }),
      );
      expect(query).not.toHaveProperty('result');
    });

    it.each([
      ['ExecutionDoesNotExist', new ExecutionDoesNotExist({ message: 'gone', $metadata: {} })],
      ['InvalidArn', new InvalidArn({ message: 'Invalid Arn', $metadata: {} })],
    ])('throws QueryNotFoundError on %s', async (_name, error) => {
      // Prepare
      sfn.on(DescribeExecutionCommand).rejects(error);

      // Act
      const reading = fx.newClient().getQuery(fx.EXECUTION_ARN);

      // Assess
      await expect(reading).rejects.toThrow(QueryNotFoundError);
      await expect(reading).rejects.toMatchObject({
        name: 'QueryNotFoundError',
        executionArn: fx.EXECUTION_ARN,
        cause: error,
      });
    });
  });

  describe('Method: waitForQuery', () => {
    it('polls until the query ends, reporting the current state on the way', async () => {
      // Prepare
      const running = {
        status: 'RUNNING' as const,
        startDate: fx.STARTED,
        input: JSON.stringify(fx.INPUT),
      };
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce(running)
        .resolvesOnce(running)
        .resolves({
          ...running,
          status: 'SUCCEEDED',
          stopDate: fx.STOPPED,
          output: JSON.stringify(fx.OUTPUT),
        });
      sfn
        .on(GetExecutionHistoryCommand)
        .resolvesOnce({
          events: [
            fx.plain('TaskStarted', 0.2),
            fx.plain('TaskScheduled', 0.2),
            fx.entered('TaskStateEntered', STATES.acquire, 0.1),
          ],
        })
        .resolves({
          events: [
            fx.plain('WaitStateExited', 0.9),
            fx.entered('WaitStateEntered', STATES.waitForQuery, 0.5),
          ],
        });
      const progress: QueryProgress[] = [];

      // Act
      const query = await fx.newClient().waitForQuery(fx.EXECUTION_ARN, {
        pollIntervalMs: 1,
        onProgress: (p) => progress.push(p),
      });

      // Assess
      expect(query.status).toBe('SUCCEEDED');
      expect(query.result).toEqual(fx.OUTPUT);
      expect(progress.map((p) => [p.status, p.state])).toEqual([
        ['RUNNING', STATES.acquire],
        ['RUNNING', STATES.waitForQuery],
      ]);
      expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
        executionArn: fx.EXECUTION_ARN,
        reverseOrder: true,
      });
    });

    it('rejects with the signal reason when aborted, and stops polling', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: fx.STARTED });
      const controller = new AbortController();
      const reason = new Error('the user pressed Ctrl+C');

      // The client's waits between polls run on fake timers, which the test moves on.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      onTestFinished(() => {
        vi.useRealTimers();
      });

      // Act: aborted while it waits for its next poll
      const waiting = fx.newClient().waitForQuery(fx.EXECUTION_ARN, {
        signal: controller.signal,
        pollIntervalMs: 5_000,
      });
      await vi.waitUntil(() => vi.getTimerCount() > 0);
      controller.abort(reason);

      // Assess
      await expect(waiting).rejects.toBe(reason);
      const polls = sfn.commandCalls(DescribeExecutionCommand).length;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(polls);
    });
  });

  describe('Method: runQuery', () => {
    it('throws QueryExecutionError with the execution error name and cause', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: fx.EXECUTION_ARN });
      sfn
        .on(DescribeExecutionCommand)
        .resolves(
          fx.failedExecution({ message: 'The statement failed: boom', statementId: 'st-9' }),
        );

      // Act
      const running = fx.newClient().runQuery(fx.INPUT, { pollIntervalMs: 1 });

      // Assess
      await expect(running).rejects.toThrow(QueryExecutionError);
      await expect(running).rejects.toMatchObject({
        name: 'QueryExecutionError',
        errorName: 'QueryFailedError',
        status: 'FAILED',
        message: 'The statement failed: boom',
        details: { statementId: 'st-9' },
      });
    });
  });

  describe('Function: failureOf', () => {
    it.each([
      [
        "puts Redshift's text, which the cause holds once, after the message",
        { message: 'The statement failed', redshiftError: 'ERROR: relation "nope" does not exist' },
        'The statement failed: ERROR: relation "nope" does not exist',
      ],
      [
        'keeps a message that ends with it already as it is',
        {
          message: 'The statement failed: ERROR: relation "nope" does not exist',
          redshiftError: 'ERROR: relation "nope" does not exist',
        },
        'The statement failed: ERROR: relation "nope" does not exist',
      ],
      [
        'says a timeout as the cause says it',
        { message: 'The query ran past its timeout (timeoutSeconds 60, until …)' },
        'The query ran past its timeout (timeoutSeconds 60, until …)',
      ],
    ])('%s', (_, cause, message) => {
      const query = { status: 'FAILED', error: 'QueryFailedError', cause } as unknown as Query;

      expect(failureOf(query)?.message).toBe(message);
    });
  });

  describe('Method: getResult', () => {
    it('throws QueryNotFinishedError while the query runs', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: fx.STARTED });

      // Act & Assess
      await expect(fx.newClient().getResult(fx.EXECUTION_ARN)).rejects.toThrow(
        QueryNotFinishedError,
      );
    });
  });

  describe('Method: getHistory', () => {
    it('reads every page of the history and builds the timeline', async () => {
      // Prepare
      sfn
        .on(GetExecutionHistoryCommand, { nextToken: undefined })
        .resolves({
          events: [
            fx.plain('ExecutionStarted', 0),
            fx.entered('TaskStateEntered', STATES.acquire, 0),
            fx.plain('TaskScheduled', 0),
            fx.plain('TaskSucceeded', 0.05),
            fx.plain('TaskStateExited', 0.05),
          ],
          nextToken: 'page-2',
        })
        .on(GetExecutionHistoryCommand, { nextToken: 'page-2' })
        .resolves({
          events: [
            fx.entered('SucceedStateEntered', STATES.succeeded, 0.05),
            fx.plain('SucceedStateExited', 0.05),
            fx.plain('ExecutionSucceeded', 0.05),
          ],
        });

      // Act
      const visits = await fx.newClient().getHistory(fx.EXECUTION_ARN);

      // Assess
      expect(visits.map((v) => [v.state, v.type, v.outcome, v.durationMs])).toEqual([
        [STATES.acquire, 'Task', 'succeeded', 50],
        [STATES.succeeded, 'Succeed', 'succeeded', 0],
      ]);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
    });
  });
});
