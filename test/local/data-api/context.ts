import { randomUUID } from 'node:crypto';
import {
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type ExecuteStatementCommandOutput,
  type Field,
  GetStatementResultCommand,
  ListSessionsCommand,
  RedshiftDataClient,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { expect } from 'vitest';
import { type Endpoint, startEndpoint } from '../../../local/endpoint.ts';
import type { HoldStatus } from '../../../local/redshift-data/controls.ts';
import { demoTenantUsers } from '../../../local/redshift-data/demo-data.ts';
import {
  createRedshiftDataEmulator,
  type RedshiftDataEmulator,
  type RedshiftDataEmulatorOptions,
} from '../../../local/redshift-data/emulator.ts';
import type { SqlEngine } from '../../../local/redshift-data/sql-engine.ts';

/**
 * What every part of the Data API suite works with: an emulator behind its own endpoint, the SDK
 * client pointed at it, and the helpers that submit, wait for and read statements.
 */

/** A demo tenant's database user, as the emulator creates it at start. */
export function demoUserOf(tenantId: string): string {
  const user = demoTenantUsers().find((each) => each.tenantId === tenantId);
  if (!user) throw new Error(`${tenantId} is no demo tenant`);
  return user.dbUser;
}

/** Where every statement in the suite runs unless a test says otherwise. */
export const CONNECTION = {
  ClusterIdentifier: 'spectra-local',
  Database: 'dev',
  DbUser: demoUserOf('acme'),
};

export const TERMINAL = ['FINISHED', 'FAILED', 'ABORTED'];
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface DataApiStack {
  emulator: RedshiftDataEmulator;
  endpoint: Endpoint;
  client: RedshiftDataClient;
  close(): Promise<void>;
}

/** An emulator behind its own endpoint, with an SDK client pointed at it. */
export async function startDataApiStack(
  engine: SqlEngine,
  options: Omit<RedshiftDataEmulatorOptions, 'engine'> = {},
): Promise<DataApiStack> {
  const emulator = await createRedshiftDataEmulator({ engine, ...options });
  const endpoint = await startEndpoint({ port: 0, services: [emulator] });
  const client = new RedshiftDataClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return {
    emulator,
    endpoint,
    client,
    async close() {
      client.destroy();
      await endpoint.close();
    },
  };
}

/**
 * ExecuteStatement through `client` with `input` as it is (`select 1` when it names no SQL): no
 * CONNECTION is added, so that a statement on a session names the session alone.
 */
export function executeOn(
  client: RedshiftDataClient,
  input: Partial<ExecuteStatementCommandInput>,
): Promise<ExecuteStatementCommandOutput> {
  return client.send(
    new ExecuteStatementCommand({ Sql: 'select 1', ...input } as ExecuteStatementCommandInput),
  );
}

/** DescribeStatement once the statement has ended (each call long-polls on the server). */
export async function endedOn(
  client: RedshiftDataClient,
  id: string | undefined,
): Promise<DescribeStatementResponse> {
  for (;;) {
    const described = await client.send(
      new DescribeStatementCommand({ Id: id, WaitTimeSeconds: 30 }),
    );
    if (TERMINAL.includes(described.Status ?? '')) return described;
  }
}

/** The status ListSessions reports for the session. */
export async function sessionStatusOn(
  client: RedshiftDataClient,
  sessionId: string | undefined,
): Promise<string | undefined> {
  const listed = await client.send(new ListSessionsCommand({ SessionId: sessionId }));
  return listed.Sessions?.[0]?.Status;
}

/** Resolves with what `promise` rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  );
  if (!('rejected' in outcome))
    throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.rejected).toBeInstanceOf(Error);
  return outcome.rejected as Error;
}

/** A field as the value a user reads from it. */
export function fieldValue(field: Field): unknown {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.stringValue !== undefined) return field.stringValue;
  return field.blobValue;
}

/** Milliseconds of a timestamp the SDK parsed; fails the test when it is missing. */
export function millisecondsOf(date: Date | undefined): number {
  expect(date).toBeInstanceOf(Date);
  return (date as Date).getTime();
}

/** The suite's engine and stack (set once they have started) and its helpers. */
export interface DataApiSuite {
  readonly engine: SqlEngine;
  readonly stack: DataApiStack;
  readonly client: RedshiftDataClient;
  /** A prefix no other test run uses, for table and statement names. */
  readonly run: string;
  /**
   * ExecuteStatement on CONNECTION, with what `input` adds or changes, through `via` (the suite's
   * client by default): the response as the SDK gives it.
   */
  execute(
    input: Partial<ExecuteStatementCommandInput>,
    via?: RedshiftDataClient,
  ): Promise<ExecuteStatementCommandOutput>;
  /** Submits one statement without waiting for it. */
  submit(input: Partial<ExecuteStatementCommandInput>): Promise<string>;
  /** DescribeStatement once the statement has ended (long polls on the server). */
  ended(id: string, via?: RedshiftDataClient): Promise<DescribeStatementResponse>;
  /** Polls until the statement shows one of `statuses` (for a statement still running). */
  untilStatus(id: string, statuses: string[]): Promise<void>;
  /** Runs a statement to its end and returns its description. */
  runSql(
    sql: string,
    input?: Partial<ExecuteStatementCommandInput>,
  ): Promise<DescribeStatementResponse>;
  /** Every row of a finished statement's result, across pages, as plain values. */
  rowsOf(id: string): Promise<unknown[][]>;
  /** Runs a query that must finish and returns its rows. */
  query(sql: string, input?: Partial<ExecuteStatementCommandInput>): Promise<unknown[][]>;
  /** The message of the ValidationException `promise` rejects with. */
  validationMessage(promise: Promise<unknown>): Promise<string>;
  /**
   * Holds, at `status` (default STARTED), every statement whose SQL `held.sql()` wrote, until
   * `held.release()`: a statement that runs exactly as long as the test needs.
   */
  holdStatements(status?: HoldStatus): HeldStatements;
}

export interface HeldStatements {
  /** `text` (default `select 1`) marked to be held. */
  sql(text?: string): string;
  release(): void;
}

/** The helpers over a started suite; `started()` gives its engine and stack. */
export function dataApiSuite(
  run: string,
  started: () => { engine: SqlEngine; stack: DataApiStack },
): DataApiSuite {
  const client = () => started().stack.client;

  const ended = (id: string, via = client()) => endedOn(via, id);

  function execute(input: Partial<ExecuteStatementCommandInput>, via = client()) {
    return via.send(
      new ExecuteStatementCommand({ ...CONNECTION, ...input } as ExecuteStatementCommandInput),
    );
  }

  async function submit(input: Partial<ExecuteStatementCommandInput>) {
    return (await execute(input)).Id as string;
  }

  async function runSql(sql: string, input: Partial<ExecuteStatementCommandInput> = {}) {
    return ended(await submit({ Sql: sql, ...input }));
  }

  async function rowsOf(id: string): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await client().send(
        new GetStatementResultCommand({ Id: id, NextToken: nextToken }),
      );
      rows.push(...(page.Records ?? []).map((record) => record.map(fieldValue)));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  return {
    get engine() {
      return started().engine;
    },
    get stack() {
      return started().stack;
    },
    get client() {
      return client();
    },
    run,
    execute,
    submit,
    ended,
    async untilStatus(id, statuses) {
      for (;;) {
        const described = await client().send(new DescribeStatementCommand({ Id: id }));
        if (statuses.includes(described.Status ?? '')) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    runSql,
    rowsOf,
    async query(sql, input = {}) {
      const described = await runSql(sql, input);
      expect(described.Error).toBeUndefined();
      expect(described.Status).toBe('FINISHED');
      return rowsOf(described.Id as string);
    },
    async validationMessage(promise) {
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(ValidationException);
      return error.message;
    },
    holdStatements(status = 'STARTED') {
      const marker = `hold-${randomUUID()}`;
      const { controls } = started().stack.emulator;
      controls.holdStatements(marker, status);
      return {
        sql: (text = 'select 1') => `${text} -- ${marker}`,
        release: () => {
          controls.releaseStatements(marker);
        },
      };
    },
  };
}
