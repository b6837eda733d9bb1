import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  type BatchExecuteStatementCommandInput,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { CONNECTION, type DataApiSuite, rejectionOf } from './context.ts';

/** BatchExecuteStatement, and ClientToken idempotency for both ways of submitting. */
export function describeBatch(suite: DataApiSuite): void {
  const { ended, runSql, rowsOf, query, validationMessage, run } = suite;

  describe('Operation: BatchExecuteStatement', () => {
    /** BatchExecuteStatement on CONNECTION, with what `input` adds or changes, without waiting. */
    const submitBatch = (input: Partial<BatchExecuteStatementCommandInput>) =>
      suite.client.send(
        new BatchExecuteStatementCommand({
          ...CONNECTION,
          ...input,
        } as BatchExecuteStatementCommandInput),
      );

    /** The batch's description once it has ended. */
    async function batch(input: Partial<BatchExecuteStatementCommandInput>) {
      return ended((await submitBatch(input)).Id as string);
    }

    /** Three statements into `table` whose second fails (no such relation). */
    const insertsAroundAFailure = (table: string) => [
      `insert into ${table} values (1)`,
      'select * from nope',
      `insert into ${table} values (2)`,
    ];

    it('runs the statements in order as one transaction, each with its own id and result', async () => {
      // Act
      const described = await batch({
        Sqls: [
          `create table ${run}_batch (x int)`,
          `insert into ${run}_batch values (1), (2)`,
          `select x from ${run}_batch order by x`,
        ],
      });

      // Assess
      const id = described.Id as string;
      expect(described).toMatchObject({
        Status: 'FINISHED',
        ExecutionMode: 'TRANSACTION',
        HasResultSet: true,
        RedshiftQueryId: 0,
      });
      expect(described.QueryString).toBeUndefined();
      expect(
        described.SubStatements?.map((sub) => [
          sub.Id,
          sub.Status,
          sub.ResultRows,
          sub.HasResultSet,
        ]),
      ).toEqual([
        [`${id}:1`, 'FINISHED', -1, false],
        [`${id}:2`, 'FINISHED', 2, false],
        [`${id}:3`, 'FINISHED', 2, true],
      ]);
      expect(await rowsOf(`${id}:3`)).toEqual([[1], [2]]);
    });

    it('rolls the whole transaction back when a statement fails', async () => {
      // Prepare
      await runSql(`create table ${run}_tx (x int)`);

      // Act
      const described = await batch({
        Sqls: insertsAroundAFailure(`${run}_tx`),
      });

      // Assess
      expect(described.Status).toBe('FAILED');
      expect(described.Error).toBe('ERROR: relation "nope" does not exist');
      expect(described.SubStatements?.map((sub) => sub.Status)).toEqual([
        'FINISHED',
        'FAILED',
        'ABORTED',
      ]);
      expect(described.SubStatements?.[1]?.Error).toBe('ERROR: relation "nope" does not exist');
      expect(await query(`select count(*) from ${run}_tx`)).toEqual([[0]]);
    });

    it('keeps what ran before the failure in AUTO_COMMIT mode', async () => {
      // Prepare
      await runSql(`create table ${run}_auto (x int)`);

      // Act
      const described = await batch({
        Sqls: insertsAroundAFailure(`${run}_auto`),
        ExecutionMode: 'AUTO_COMMIT',
      });

      // Assess
      expect(described.Status).toBe('FAILED');
      expect(described.ExecutionMode).toBe('AUTO_COMMIT');
      expect(await query(`select x from ${run}_auto`)).toEqual([[1]]);
    });

    it('shares Parameters across the statements', async () => {
      // Act
      const described = await batch({
        Sqls: ['select :a::int as a', 'select :b as b, :a::int + 1 as next'],
        Parameters: [
          { name: 'a', value: '1' },
          { name: 'b', value: 'x' },
        ],
      });

      // Assess
      expect(described.Status).toBe('FINISHED');
      expect(await rowsOf(`${described.Id}:2`)).toEqual([['x', 2]]);
    });

    it('describes a sub-statement by its own id', async () => {
      // Prepare
      const described = await batch({ Sqls: ['select 1', 'select 2 as two'] });

      // Act
      const sub = await suite.client.send(
        new DescribeStatementCommand({ Id: `${described.Id}:2` }),
      );

      // Assess
      expect(sub).toMatchObject({
        Id: `${described.Id}:2`,
        QueryString: 'select 2 as two',
        Status: 'FINISHED',
        ResultRows: 1,
        HasResultSet: true,
      });
    });

    it('throws ValidationException for the result of the batch itself', async () => {
      // Prepare
      const described = await batch({ Sqls: ['select 1', 'select 2'] });

      // Act
      const message = await validationMessage(
        suite.client.send(new GetStatementResultCommand({ Id: described.Id })),
      );

      // Assess
      expect(message).toBe(
        `Statement ${described.Id} is a batch: read the result of each SQL statement by its sub-statement Id, ${described.Id}:1 to ${described.Id}:2.`,
      );
    });

    it('throws ResourceNotFoundException for a sub-statement the batch does not have', async () => {
      // Prepare
      const described = await batch({ Sqls: ['select 1'] });

      // Act
      const error = await rejectionOf(
        suite.client.send(new DescribeStatementCommand({ Id: `${described.Id}:2` })),
      );

      // Assess
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    });

    it.each([
      [
        'no SQL',
        { Sqls: [] },
        "1 validation error detected: Value '[]' at 'sqls' failed to satisfy constraint: Member must have length greater than or equal to 1",
      ],
      [
        '41 SQL statements',
        { Sqls: Array(41).fill('select 1') },
        /^1 validation error detected: Value '\[.*' at 'sqls' failed to satisfy constraint: Member must have length less than or equal to 40$/,
      ],
      [
        'a parameter no statement uses',
        {
          Sqls: ['select :a', 'select 1'],
          Parameters: [
            { name: 'a', value: '1' },
            { name: 'b', value: '2' },
          ],
        },
        'Parameter b is not used in any of the SQL statements; remove it or refer to it as :b.',
      ],
      [
        'an unknown ExecutionMode',
        { Sqls: ['select 1'], ExecutionMode: 'SOMETIMES' as 'AUTO_COMMIT' },
        "1 validation error detected: Value 'SOMETIMES' at 'executionMode' failed to satisfy constraint: Member must satisfy enum value set: [TRANSACTION, AUTO_COMMIT]",
      ],
    ])('throws ValidationException for %s', async (_case, change, expected) => {
      // Act
      const message = await validationMessage(submitBatch(change));

      // Assess
      if (typeof expected === 'string') expect(message).toBe(expected);
      else expect(message).toMatch(expected);
    });
  });

  describe('ClientToken', () => {
    it('returns the same statement for the same token and runs the SQL once', async () => {
      // Prepare
      await runSql(`create table ${run}_once (x int)`);
      const token = randomUUID();
      const submittedBefore = suite.stack.emulator.controls.stats().statementsSubmitted;
      const insert = {
        ...CONNECTION,
        Sql: `insert into ${run}_once values (1)`,
        ClientToken: token,
        WaitTimeSeconds: 20,
      };

      // Act
      const first = await suite.client.send(new ExecuteStatementCommand(insert));
      const retry = await suite.client.send(new ExecuteStatementCommand(insert));
      const submittedAfter = suite.stack.emulator.controls.stats().statementsSubmitted;

      // Assess
      expect(retry.Id).toBe(first.Id);
      expect(retry.Status).toBe('FINISHED');
      expect(submittedAfter).toBe(submittedBefore + 1);
      expect(await query(`select count(*) from ${run}_once`)).toEqual([[1]]);
    });

    it('returns the first statement and its session even when the retry differs', async () => {
      // Prepare
      const token = randomUUID();
      const first = await suite.execute({
        Sql: 'select 1',
        SessionKeepAliveSeconds: 60,
        ClientToken: token,
        WaitTimeSeconds: 20,
      });

      // Act
      const retry = await suite.execute({ Sql: 'select 2', ClientToken: token });

      // Assess
      expect(retry).toMatchObject({
        Id: first.Id,
        SessionId: first.SessionId,
        Status: 'FINISHED',
      });
    });

    it('does not spend the token on a call refused by validation', async () => {
      // Prepare
      const token = randomUUID();
      await validationMessage(
        suite.execute({ Database: 'prod', Sql: 'select 1', ClientToken: token }),
      );

      // Act
      const accepted = await suite.execute({
        Sql: 'select 1',
        ClientToken: token,
        WaitTimeSeconds: 20,
      });

      // Assess
      expect(accepted.Status).toBe('FINISHED');
    });

    it('makes BatchExecuteStatement idempotent too', async () => {
      // Prepare
      await runSql(`create table ${run}_batch_once (x int)`);
      const request = new BatchExecuteStatementCommand({
        ...CONNECTION,
        Sqls: [
          `insert into ${run}_batch_once values (1)`,
          `insert into ${run}_batch_once values (2)`,
        ],
        ClientToken: randomUUID(),
        WaitTimeSeconds: 20,
      });

      // Act
      const first = await suite.client.send(request);
      const retry = await suite.client.send(request);

      // Assess
      expect(retry.Id).toBe(first.Id);
      expect(await query(`select count(*) from ${run}_batch_once`)).toEqual([[2]]);
    });
  });
}
