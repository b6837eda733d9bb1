import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ExecutionNameTakenError,
  failureOf,
  InvalidInputError,
  type Query,
  QueryExecutionError,
  QueryNotFinishedError,
  QueryNotFoundError,
  QueryNotRedrivableError,
  type QueryProgress,
  SpectraClient,
  SpectraClientError,
  SpectraConnectionError,
  StateMachineNotFoundError,
} from '../../client/index.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * SpectraClient's methods against mocked Step Functions and DynamoDB clients (its configuration is
 * in connection.test.ts). Over 400 lines because every method's cases share the mocks and the
 * execution fixtures below; split by method, each file would repeat them.
 */

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:spectra-query';
const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:spectra-query:run-1';
const STARTED = new Date('2026-11-28T12:00:00.000Z');
const STOPPED = new Date('2026-11-28T12:00:01.250Z');
const INPUT = { tenantId: 'acme', sql: 'select count(*) as sales from sales' };
const OUTPUT = {
  tenantId: 'acme',
  statementId: 'st-1',
  sessionId: 'sess-1',
  sessionReused: true,
  columns: [{ name: 'sales', type: 'int8' }],
  rows: [[750]],
  rowCount: 1,
  totalRows: 1,
  truncated: false,
};

/** What DescribeExecution answers for INPUT's query when it failed with QueryFailedError. */
const failedExecution = (cause: Record<string, unknown>) => ({
  status: 'FAILED' as const,
  startDate: STARTED,
  stopDate: STOPPED,
  input: JSON.stringify(INPUT),
  error: 'QueryFailedError',
  cause: JSON.stringify(cause),
});

const newClient = () =>
  new SpectraClient({
    stateMachineArn: STATE_MACHINE_ARN,
    sessionsTableName: 'sessions-table',
    dbUserTemplate: 'app_{tenant}',
    region: 'eu-west-1',
  });

function entered(type: string, name: string, seconds: number): HistoryEvent {
  return {
    id: 0,
    type: type as HistoryEvent['type'],
    timestamp: new Date(STARTED.getTime() + seconds * 1000),
    stateEnteredEventDetails: { name },
  };
}

function plain(type: string, seconds: number): HistoryEvent {
  return {
    id: 0,
    type: type as HistoryEvent['type'],
    timestamp: new Date(STARTED.getTime() + seconds * 1000),
  };
}

beforeEach(() => {
  sfn.reset();
  ddb.reset();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Class: SpectraClient', () => {
  describe('Method: submitQuery', () => {
    it('starts an execution with the validated input and the name', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: STARTED });

      // Act
      const submitted = await newClient().submitQuery({
        ...INPUT,
        sql: 'select count(*) as sales from sales where region = :region',
        parameters: [{ name: 'region', value: 'eu' }],
        name: 'run-1',
      });

      // Assess
      expect(submitted).toEqual({ executionArn: EXECUTION_ARN });
      expect(sfn).toReceiveCommandWith(StartExecutionCommand, {
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'run-1',
        input: JSON.stringify({
          ...INPUT,
          sql: 'select count(*) as sales from sales where region = :region',
          parameters: [{ name: 'region', value: 'eu' }],
        }),
      });
    });

    it.each([
      [{ tenantId: 'Acme', sql: 'select 1' }, 'tenantId must be 1-63 characters'],
      [{ tenantId: 'acme', sql: '   ' }, 'sql must not be empty or only whitespace'],
      [
        { tenantId: 'acme', sql: 'select :a', parameters: [{ name: 'a', value: '' }] },
        'parameters[0].value must not be empty',
      ],
      [{ tenantId: 'acme', sql: 'select 1', name: 'has space' }, 'name must be 1-80 characters'],
      [
        { tenantId: 'acme', sql: 'select 1', timeoutSeconds: 90_000 },
        'timeoutSeconds must be a whole number of seconds from 1 to 86400',
      ],
    ])('throws InvalidInputError before any call for %j', async (request, message) => {
      // Act
      const submitting = newClient().submitQuery(request);

      // Assess
      await expect(submitting).rejects.toThrow(InvalidInputError);
      await expect(submitting).rejects.toThrow(message);
      expect(sfn.calls()).toHaveLength(0);
    });

    it('throws InvalidInputError before any call for an input too large to travel beside the state', async () => {
      const request = {
        tenantId: 'acme',
        sql: `select '${'x'.repeat(100_000)}', :a, :b`,
        parameters: ['a', 'b'].map((name) => ({ name, value: 'v'.repeat(60_000) })),
      };

      const submitting = newClient().submitQuery(request);

      await expect(submitting).rejects.toThrow(
        'the input must be a JSON object of at most 204800 bytes',
      );
      expect(sfn.calls()).toHaveLength(0);
    });

    it('returns the existing execution when its name was taken by the same input', async () => {
      // Prepare: the same input, its keys in another order
      sfn
        .on(StartExecutionCommand)
        .rejects(
          new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }),
        );
      sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves({
        executionArn: EXECUTION_ARN,
        status: 'SUCCEEDED',
        input: JSON.stringify({ sql: INPUT.sql, tenantId: INPUT.tenantId }),
      });

      // Act
      const submitted = await newClient().submitQuery({ ...INPUT, name: 'run-1' });

      // Assess
      expect(submitted).toEqual({ executionArn: EXECUTION_ARN });
    });

    it('throws ExecutionNameTakenError when the name was taken by other input', async () => {
      // Prepare
      sfn
        .on(StartExecutionCommand)
        .rejects(
          new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }),
        );
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        status: 'RUNNING',
        input: JSON.stringify({ ...INPUT, sql: 'select 2' }),
      });

      // Act
      const submitting = newClient().submitQuery({ ...INPUT, name: 'run-1' });

      // Assess
      await expect(submitting).rejects.toThrow(ExecutionNameTakenError);
      await expect(submitting).rejects.toThrow(
        `The execution name "run-1" is taken by another query (${EXECUTION_ARN})`,
      );
    });

    it('throws StateMachineNotFoundError naming the variable to set', async () => {
      // Prepare
      sfn
        .on(StartExecutionCommand)
        .rejects(new StateMachineDoesNotExist({ message: 'no', $metadata: {} }));

      // Act
      const submitting = newClient().submitQuery(INPUT);

      // Assess
      await expect(submitting).rejects.toThrow(StateMachineNotFoundError);
      await expect(submitting).rejects.toThrow('set SPECTRA_STATE_MACHINE_ARN');
    });

    it('throws SpectraConnectionError suggesting npm start when the local endpoint is down', async () => {
      // Prepare
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), {
        code: 'ECONNREFUSED',
      });
      sfn.on(StartExecutionCommand).rejects(refused);
      const client = new SpectraClient({ endpoint: 'http://127.0.0.1:4599', region: 'us-east-1' });

      // Act
      const submitting = client.submitQuery(INPUT);

      // Assess
      await expect(submitting).rejects.toThrow(SpectraConnectionError);
      await expect(submitting).rejects.toThrow(
        'Could not reach http://127.0.0.1:4599 (ECONNREFUSED). Is the local stack running? Start it with `npm start`.',
      );
    });
  });

  describe('Method: getQuery', () => {
    it('reads the status, timing, input and result of a succeeded query', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({
        executionArn: EXECUTION_ARN,
        name: 'run-1',
        status: 'SUCCEEDED',
        startDate: STARTED,
        stopDate: STOPPED,
        input: JSON.stringify(INPUT),
        output: JSON.stringify(OUTPUT),
      });

      // Act
      const query = await newClient().getQuery(EXECUTION_ARN);

      // Assess
      expect(query).toEqual({
        executionArn: EXECUTION_ARN,
        name: 'run-1',
        status: 'SUCCEEDED',
        startedAt: STARTED,
        stoppedAt: STOPPED,
        durationMs: 1250,
        tenantId: 'acme',
        sql: INPUT.sql,
        result: OUTPUT,
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
      sfn.on(DescribeExecutionCommand).resolves(failedExecution(cause));

      // Act
      const query = await newClient().getQuery(EXECUTION_ARN);

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
      const reading = newClient().getQuery(EXECUTION_ARN);

      // Assess
      await expect(reading).rejects.toThrow(QueryNotFoundError);
      await expect(reading).rejects.toMatchObject({
        name: 'QueryNotFoundError',
        executionArn: EXECUTION_ARN,
        cause: error,
      });
    });
  });

  describe('Method: waitForQuery', () => {
    it('polls until the query ends, reporting the current state on the way', async () => {
      // Prepare
      const running = {
        status: 'RUNNING' as const,
        startDate: STARTED,
        input: JSON.stringify(INPUT),
      };
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce(running)
        .resolvesOnce(running)
        .resolves({
          ...running,
          status: 'SUCCEEDED',
          stopDate: STOPPED,
          output: JSON.stringify(OUTPUT),
        });
      sfn
        .on(GetExecutionHistoryCommand)
        .resolvesOnce({
          events: [
            plain('TaskStarted', 0.2),
            plain('TaskScheduled', 0.2),
            entered('TaskStateEntered', STATES.acquire, 0.1),
          ],
        })
        .resolves({
          events: [
            plain('WaitStateExited', 0.9),
            entered('WaitStateEntered', STATES.waitForQuery, 0.5),
          ],
        });
      const progress: QueryProgress[] = [];

      // Act
      const query = await newClient().waitForQuery(EXECUTION_ARN, {
        pollIntervalMs: 1,
        onProgress: (p) => progress.push(p),
      });

      // Assess
      expect(query.status).toBe('SUCCEEDED');
      expect(query.result).toEqual(OUTPUT);
      expect(progress.map((p) => [p.status, p.state])).toEqual([
        ['RUNNING', STATES.acquire],
        ['RUNNING', STATES.waitForQuery],
      ]);
      expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
        executionArn: EXECUTION_ARN,
        reverseOrder: true,
      });
    });

    it('rejects with the signal reason when aborted, and stops polling', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });
      const controller = new AbortController();
      const reason = new Error('the user pressed Ctrl+C');

      // Act
      const waiting = newClient().waitForQuery(EXECUTION_ARN, {
        signal: controller.signal,
        pollIntervalMs: 5_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort(reason);

      // Assess
      await expect(waiting).rejects.toBe(reason);
      const polls = sfn.commandCalls(DescribeExecutionCommand).length;
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(polls);
    });
  });

  describe('Method: runQuery', () => {
    it('throws QueryExecutionError with the execution error name and cause', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN });
      sfn
        .on(DescribeExecutionCommand)
        .resolves(failedExecution({ message: 'The statement failed: boom', statementId: 'st-9' }));

      // Act
      const running = newClient().runQuery(INPUT, { pollIntervalMs: 1 });

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
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: STARTED });

      // Act & Assess
      await expect(newClient().getResult(EXECUTION_ARN)).rejects.toThrow(QueryNotFinishedError);
    });
  });

  describe('Method: getHistory', () => {
    it('reads every page of the history and builds the timeline', async () => {
      // Prepare
      sfn
        .on(GetExecutionHistoryCommand, { nextToken: undefined })
        .resolves({
          events: [
            plain('ExecutionStarted', 0),
            entered('TaskStateEntered', STATES.acquire, 0),
            plain('TaskScheduled', 0),
            plain('TaskSucceeded', 0.05),
            plain('TaskStateExited', 0.05),
          ],
          nextToken: 'page-2',
        })
        .on(GetExecutionHistoryCommand, { nextToken: 'page-2' })
        .resolves({
          events: [
            entered('SucceedStateEntered', STATES.succeeded, 0.05),
            plain('SucceedStateExited', 0.05),
            plain('ExecutionSucceeded', 0.05),
          ],
        });

      // Act
      const visits = await newClient().getHistory(EXECUTION_ARN);

      // Assess
      expect(visits.map((v) => [v.state, v.type, v.outcome, v.durationMs])).toEqual([
        [STATES.acquire, 'Task', 'succeeded', 50],
        [STATES.succeeded, 'Succeed', 'succeeded', 0],
      ]);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
    });
  });

  describe('Method: listSessions', () => {
    it("reads the tenant's pool strongly consistent, page by page, the most recently used first", async () => {
      // Prepare
      const item = (id: string, lastUsed: string, fields: Record<string, unknown> = {}) => ({
        pool_id: 'acme#app_acme',
        session_id: id,
        tenant_id: 'acme',
        db_user: 'app_acme',
        state: 'IDLE',
        created_at: '2026-11-28T11:00:00.000Z',
        last_used_at: lastUsed,
        expires_at: '2026-11-28T13:00:00.000Z',
        ttl: 1_795_000_000,
        ...fields,
      });
      ddb
        .on(QueryCommand, { ExclusiveStartKey: undefined })
        .resolves({
          Items: [item('sess-old', '2026-11-28T11:10:00.000Z')],
          LastEvaluatedKey: { pool_id: 'acme#app_acme', session_id: 'sess-old' },
        })
        .on(QueryCommand, {
          ExclusiveStartKey: { pool_id: 'acme#app_acme', session_id: 'sess-old' },
        })
        .resolves({
          Items: [
            item('sess-new', '2026-11-28T11:50:00.000Z', {
              state: 'LEASED',
              lease_owner: EXECUTION_ARN,
              lease_expires_at: '2026-11-28T11:55:00.000Z',
            }),
          ],
        });

      // Act
      const sessions = await newClient().listSessions('acme');

      // Assess
      expect(ddb).toReceiveCommandWith(QueryCommand, {
        TableName: 'sessions-table',
        KeyConditionExpression: 'pool_id = :pool',
        ExpressionAttributeValues: { ':pool': 'acme#app_acme' },
        ConsistentRead: true,
      });
      expect(sessions).toEqual([
        {
          id: 'sess-new',
          tenantId: 'acme',
          dbUser: 'app_acme',
          state: 'LEASED',
          createdAt: new Date('2026-11-28T11:00:00.000Z'),
          lastUsedAt: new Date('2026-11-28T11:50:00.000Z'),
          expiresAt: new Date('2026-11-28T13:00:00.000Z'),
          leaseOwner: EXECUTION_ARN,
          leaseExpiresAt: new Date('2026-11-28T11:55:00.000Z'),
        },
        expect.objectContaining({ id: 'sess-old', state: 'IDLE' }),
      ]);
    });

    it('throws InvalidInputError for a tenant id that cannot exist', async () => {
      await expect(newClient().listSessions('ACME#x')).rejects.toThrow(InvalidInputError);
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('Method: cancelQuery', () => {
    it('stops a running query with the reason given', async () => {
      // Prepare
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce({ status: 'RUNNING' })
        .resolves({ status: 'ABORTED' });
      sfn.on(StopExecutionCommand).resolves({ stopDate: STOPPED });

      // Act
      const cancelled = await newClient().cancelQuery(EXECUTION_ARN, { cause: 'not needed' });

      // Assess
      expect(cancelled).toEqual({ executionArn: EXECUTION_ARN, status: 'ABORTED', stopped: true });
      expect(sfn).toReceiveCommandWith(StopExecutionCommand, {
        executionArn: EXECUTION_ARN,
        cause: 'not needed',
      });
    });

    it('stops nothing when the query already ended', async () => {
      // Prepare
      sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

      // Act
      const cancelled = await newClient().cancelQuery(EXECUTION_ARN);

      // Assess
      expect(cancelled).toEqual({
        executionArn: EXECUTION_ARN,
        status: 'SUCCEEDED',
        stopped: false,
      });
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
    });
  });

  describe('Errors', () => {
    it.each([
      [new InvalidInputError('x'), 'InvalidInputError'],
      [new QueryNotFoundError(EXECUTION_ARN), 'QueryNotFoundError'],
      [new ExecutionNameTakenError('run-1', EXECUTION_ARN), 'ExecutionNameTakenError'],
      [new StateMachineNotFoundError(STATE_MACHINE_ARN), 'StateMachineNotFoundError'],
      [new QueryNotFinishedError(EXECUTION_ARN), 'QueryNotFinishedError'],
      [
        new QueryExecutionError(EXECUTION_ARN, 'FAILED', 'QueryFailedError', {}),
        'QueryExecutionError',
      ],
      [new SpectraConnectionError(undefined, 'ENOTFOUND'), 'SpectraConnectionError'],
      [
        new QueryNotRedrivableError(EXECUTION_ARN, 'Execution is RUNNING'),
        'QueryNotRedrivableError',
      ],
    ])('%s has the literal name %s and extends SpectraClientError', (error, name) => {
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(SpectraClientError);
    });
  });
});
