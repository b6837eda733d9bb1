import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  GetStatementResultV2Command,
  ListStatementsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-redshift-data';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONNECTION,
  type DataApiSuite,
  demoUserOf,
  rejectionOf,
  startDataApiStack,
} from './context.ts';

/** Reading and stopping statements: DescribeStatement, CancelStatement, ListStatements, unknown ids, and close(). */
export function describeStatements(suite: DataApiSuite): void {
  const { submit, ended, untilStatus, runSql, validationMessage, run } = suite;

  describe('Operation: DescribeStatement', () => {
    it('describes a finished query: rows, size, pid, query id and timestamps', async () => {
      // Act
      const described = await runSql('select userid from users where userid <= 5');

      // Assess
      expect(described).toMatchObject({
        Status: 'FINISHED',
        HasResultSet: true,
        ResultRows: 5,
        ResultFormat: 'JSON',
        DbUser: demoUserOf('acme'),
        Database: 'dev',
        ClusterIdentifier: 'spectra-local',
        QueryString: 'select userid from users where userid <= 5',
      });
      expect(described.ResultSize).toBeGreaterThan(0);
      expect(described.RedshiftPid).toBeGreaterThan(0);
      expect(described.RedshiftQueryId).toBeGreaterThan(0);
      expect(Number.isInteger(described.Duration)).toBe(true);
      expect(described.Duration).toBeGreaterThanOrEqual(0);
      expect((described.UpdatedAt as Date).getTime()).toBeGreaterThanOrEqual(
        (described.CreatedAt as Date).getTime(),
      );
      expect(described.Error).toBeUndefined();
    });

    it('reports rows affected for DML and -1 for DDL', async () => {
      // Act
      const created = await runSql(`create table ${run}_dml (x int)`);
      const inserted = await runSql(`insert into ${run}_dml values (1), (2), (3)`);

      // Assess
      expect(created).toMatchObject({ Status: 'FINISHED', ResultRows: -1, ResultSize: -1 });
      expect(created.HasResultSet).toBe(false);
      expect(inserted).toMatchObject({ Status: 'FINISHED', ResultRows: 3, HasResultSet: false });
    });

    it('shows a long statement STARTED while 20 other DescribeStatement calls complete before it ends', async () => {
      // Prepare
      const others = [
        await submit({ Sql: 'select 1' }),
        await submit({ Sql: 'select 2' }),
        await submit({ Sql: 'select 3' }),
      ];
      await Promise.all(others.map((id) => ended(id)));
      const held = suite.holdStatements();
      const sleeper = await submit({ Sql: held.sql() });
      await untilStatus(sleeper, ['STARTED']);

      // Act
      const completed: string[] = [];
      const sleeperEnded = ended(sleeper).then((described) => {
        completed.push('sleeper');
        return described;
      });
      const describes = Array.from({ length: 20 }, (_, index) =>
        suite.client
          .send(new DescribeStatementCommand({ Id: others[index % others.length] }))
          .then((described) => {
            completed.push(`describe ${described.Status}`);
          }),
      );
      await Promise.all(describes);
      held.release();
      const final = await sleeperEnded;

      // Assess
      expect(completed).toEqual([...Array(20).fill('describe FINISHED'), 'sleeper']);
      expect(final.Status).toBe('FINISHED');
    });

    it('throws ResourceNotFoundException for an id that does not exist', async () => {
      // Prepare
      const id = randomUUID();

      // Act
      const error = await rejectionOf(suite.client.send(new DescribeStatementCommand({ Id: id })));

      // Assess
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toBe('Query does not exist.');
      expect((error as ResourceNotFoundException).ResourceId).toBe(id);
    });

    it('throws ValidationException for an id that is not a statement id', async () => {
      // Act
      const message = await validationMessage(
        suite.client.send(new DescribeStatementCommand({ Id: 'not-an-id' })),
      );

      // Assess
      expect(message).toMatch(/^1 validation error detected: Value 'not-an-id' at 'id'/);
    });
  });

  describe('Operation: CancelStatement', () => {
    it('aborts a running statement, whose result is then gone', async () => {
      // Prepare: a statement that runs until it is cancelled
      const held = suite.holdStatements();
      const id = await submit({ Sql: held.sql() });
      await untilStatus(id, ['STARTED']);

      // Act
      const cancelled = await suite.client.send(new CancelStatementCommand({ Id: id }));
      const described = await suite.client.send(new DescribeStatementCommand({ Id: id }));
      const again = await validationMessage(
        suite.client.send(new CancelStatementCommand({ Id: id })),
      );
      const result = await validationMessage(
        suite.client.send(new GetStatementResultCommand({ Id: id })),
      );

      // Assess
      held.release();
      expect(cancelled.Status).toBe(true);
      expect(described.Status).toBe('ABORTED');
      expect(again).toBe(
        `Could not cancel a query that is already in ABORTED state with ID: ${id}`,
      );
      expect(result).toMatch(/^Query does not have result\. The statement is ABORTED/);
    });

    it('throws ValidationException for a statement that has finished', async () => {
      // Prepare
      const { Id: id } = await runSql('select 1');

      // Act
      const message = await validationMessage(
        suite.client.send(new CancelStatementCommand({ Id: id })),
      );

      // Assess
      expect(message).toBe(
        `Could not cancel a query that is already in FINISHED state with ID: ${id}`,
      );
    });
  });

  describe('Unknown statement ids', () => {
    it.each([
      ['DescribeStatement', (id: string) => new DescribeStatementCommand({ Id: id })],
      ['GetStatementResult', (id: string) => new GetStatementResultCommand({ Id: id })],
      ['GetStatementResultV2', (id: string) => new GetStatementResultV2Command({ Id: id })],
      ['CancelStatement', (id: string) => new CancelStatementCommand({ Id: id })],
    ])('%s throws ResourceNotFoundException naming the id', async (_operation, command) => {
      // Prepare
      const id = randomUUID();

      // Act
      // biome-ignore lint/suspicious/noExplicitAny: the four commands share no send() overload
      const error = await rejectionOf(suite.client.send(command(id) as any));

      // Assess
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toBe('Query does not exist.');
      expect((error as ResourceNotFoundException).ResourceId).toBe(id);
    });
  });

  describe('Operation: ListStatements', () => {
    const prefix = `${run}-list`;

    beforeAll(async () => {
      await runSql('select 1', { StatementName: `${prefix}-a` });
      await runSql('select * from nope', { StatementName: `${prefix}-b` });
      await runSql('select 3', { StatementName: `${prefix}-c`, Parameters: undefined });
      await suite.client.send(
        new BatchExecuteStatementCommand({
          ...CONNECTION,
          Sqls: ['select 1', 'select 2'],
          StatementName: `${prefix}-batch`,
          WaitTimeSeconds: 20,
        }),
      );
    });

    it('lists finished statements by default, newest first, filtered by name prefix', async () => {
      // Act
      const listed = await suite.client.send(new ListStatementsCommand({ StatementName: prefix }));

      // Assess
      expect(listed.Statements?.map((each) => each.StatementName)).toEqual([
        `${prefix}-batch`,
        `${prefix}-c`,
        `${prefix}-a`,
      ]);
      expect(listed.Statements?.[0]).toMatchObject({
        IsBatchStatement: true,
        QueryStrings: ['select 1', 'select 2'],
        Status: 'FINISHED',
      });
      expect(listed.Statements?.[1]).toMatchObject({
        IsBatchStatement: false,
        QueryString: 'select 3',
        ResultFormat: 'JSON',
      });
    });

    it('filters by Status, or lists every status with ALL', async () => {
      // Act
      const failed = await suite.client.send(
        new ListStatementsCommand({ StatementName: prefix, Status: 'FAILED' }),
      );
      const all = await suite.client.send(
        new ListStatementsCommand({ StatementName: prefix, Status: 'ALL' }),
      );

      // Assess
      expect(failed.Statements?.map((each) => each.StatementName)).toEqual([`${prefix}-b`]);
      expect(all.Statements).toHaveLength(4);
    });

    it('matches the name prefix case-sensitively', async () => {
      // Act
      const listed = await suite.client.send(
        new ListStatementsCommand({ StatementName: prefix.toUpperCase(), Status: 'ALL' }),
      );

      // Assess
      expect(listed.Statements).toEqual([]);
    });

    it('pages with MaxResults and NextToken', async () => {
      // Act
      const first = await suite.client.send(
        new ListStatementsCommand({ StatementName: prefix, Status: 'ALL', MaxResults: 3 }),
      );
      const second = await suite.client.send(
        new ListStatementsCommand({
          StatementName: prefix,
          Status: 'ALL',
          MaxResults: 3,
          NextToken: first.NextToken,
        }),
      );

      // Assess
      expect(first.Statements).toHaveLength(3);
      expect(first.NextToken).toBeDefined();
      expect(second.Statements?.map((each) => each.StatementName)).toEqual([`${prefix}-a`]);
      expect(second.NextToken).toBeUndefined();
    });
  });

  describe('Test controls: holdStatements', () => {
    it('holds the statements whose SQL has the marker, STARTED, until they are released', async () => {
      // Prepare
      const controls = suite.stack.emulator.controls;
      const marker = `hold-${randomUUID()}`;
      controls.holdStatements(marker);

      // Act
      const held = await submit({ Sql: `select 1 -- ${marker}` });
      const free = await runSql('select 2');
      await untilStatus(held, ['STARTED']);
      const whileHeld = await suite.client.send(
        new DescribeStatementCommand({ Id: held, WaitTimeSeconds: 1 }),
      );
      const heldCount = controls.stats().statementsHeld;
      const released = controls.releaseStatements(marker);
      const afterwards = await ended(held);
      const next = await runSql(`select 3 -- ${marker}`);

      // Assess
      expect(free.Status).toBe('FINISHED');
      expect(whileHeld.Status).toBe('STARTED');
      expect(heldCount).toBe(1);
      expect(released).toBe(1);
      expect(afterwards.Status).toBe('FINISHED');
      expect(next.Status).toBe('FINISHED');
      expect(controls.stats().statementsHeld).toBe(0);
    });

    it('holds them PICKED, before their connection opens, when asked to', async () => {
      // Prepare
      const controls = suite.stack.emulator.controls;
      const marker = `hold-${randomUUID()}`;
      controls.holdStatements(marker, 'PICKED');

      // Act
      const held = await submit({ Sql: `select 1 -- ${marker}` });
      await untilStatus(held, ['PICKED']);
      const whileHeld = await suite.client.send(
        new DescribeStatementCommand({ Id: held, WaitTimeSeconds: 1 }),
      );
      controls.releaseStatements(marker);
      const afterwards = await ended(held);

      // Assess
      expect(whileHeld.Status).toBe('PICKED');
      expect(whileHeld.RedshiftPid).toBe(0);
      expect(afterwards.Status).toBe('FINISHED');
    });

    it('holds them RAN, STARTED once the engine has run them, and commits what they did only once released', async () => {
      // Prepare
      const controls = suite.stack.emulator.controls;
      const marker = `hold-${randomUUID()}`;
      const table = `${run}_held_ran`;
      expect((await runSql(`create table ${table} (x int)`)).Status).toBe('FINISHED');
      controls.holdStatements(marker, 'RAN');

      // Act
      const held = await submit({ Sql: `insert into ${table} values (1) -- ${marker}` });
      while (controls.stats().statementsHeld < 1)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const whileHeld = await suite.client.send(new DescribeStatementCommand({ Id: held }));
      const released = controls.releaseStatements(marker);
      const afterwards = await ended(held);
      const rows = await suite.query(`select count(*) from ${table}`);

      // Assess
      expect(whileHeld.Status).toBe('STARTED');
      expect(released).toBe(1);
      expect(afterwards).toMatchObject({ Status: 'FINISHED', ResultRows: 1 });
      expect(rows).toEqual([[1]]);
    });
  });

  describe('Method: close', () => {
    it('ends the open sessions and the long polls waiting on them', async () => {
      // Prepare
      const own = await startDataApiStack(suite.engine, { loadDemoData: false });
      try {
        const opened = await suite.execute(
          { Sql: 'select 1', SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 },
          own.client,
        );
        // A statement that runs until close() ends it.
        own.emulator.controls.holdStatements('hold-until-close');
        const sleeper = await own.client.send(
          new ExecuteStatementCommand({
            Sql: 'select 1 -- hold-until-close',
            SessionId: opened.SessionId,
          }),
        );
        // In process, so the long poll is surely waiting before close() runs.
        const polling = own.emulator.handle('DescribeStatement', {
          Id: sleeper.Id,
          WaitTimeSeconds: 30,
        }) as Promise<{ Status: string; Error?: string }>;

        // Act
        await own.emulator.close();
        const described = await polling;

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toMatch(/was closed \(the emulator stopped\)/);
        expect(own.emulator.controls.stats().activeSessions).toBe(0);
        expect(own.emulator.controls.listSessionIds()).toEqual([]);
      } finally {
        await own.close();
      }
    });
  });
}
