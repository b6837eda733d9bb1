import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { type LocalStack, readEngineChoice } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * `SPECTRA_LOCAL_ENGINE=postgres`: the local stack runs its Data API on a throwaway PostgreSQL
 * cluster it starts itself, with no URL to give, and removes the cluster when it stops.
 */

let stack: LocalStack;
let api: StackApi;
let client: RedshiftDataClient;
const previous = process.env.SPECTRA_LOCAL_ENGINE;

beforeAll(async () => {
  process.env.SPECTRA_LOCAL_ENGINE = 'postgres';
  ({ stack, api } = await startStackWithApi());
  client = new RedshiftDataClient({ endpoint: stack.url });
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
  if (previous === undefined) delete process.env.SPECTRA_LOCAL_ENGINE;
  else process.env.SPECTRA_LOCAL_ENGINE = previous;
});

async function firstValue(
  sql: string,
  sessionKeepAlive?: number,
): Promise<{ value: unknown; sessionId?: string }> {
  const submitted = await client.send(
    new ExecuteStatementCommand({
      ClusterIdentifier: 'spectra-local',
      Database: 'dev',
      DbUser: 'tenant_acme',
      Sql: sql,
      SessionKeepAliveSeconds: sessionKeepAlive,
    }),
  );
  for (;;) {
    const described = await client.send(
      new DescribeStatementCommand({ Id: submitted.Id, WaitTimeSeconds: 20 }),
    );
    if (described.Status === 'FINISHED') break;
    if (described.Status === 'FAILED' || described.Status === 'ABORTED')
      throw new Error(described.Error);
  }
  const result = await client.send(new GetStatementResultCommand({ Id: submitted.Id }));
  const field = result.Records?.[0]?.[0];
  return { value: field?.longValue ?? field?.stringValue, sessionId: submitted.SessionId };
}

describe('Local stack: SPECTRA_LOCAL_ENGINE=postgres', () => {
  it('runs on a PostgreSQL cluster of its own', async () => {
    // Act
    const { value } = await firstValue('select version()');

    // Assess
    expect(stack.engineKind).toBe('postgres');
    expect(stack.ownCluster).toBe(true);
    expect(value).toMatch(/, Redshift 1\.0\.\d+ \(Spectra local stack, on PostgreSQL \d+/);
  });

  it('gives each Data API session a backend of its own', async () => {
    // Act
    const first = await firstValue('select pg_backend_pid()', 60);
    const second = await firstValue('select pg_backend_pid()', 60);

    // Assess
    expect(first.sessionId).not.toBe(second.sessionId);
    expect(first.value).not.toBe(second.value);
  });

  it("answers a tenant's query through the state machine, on the demo data", async () => {
    // Act
    const arn = await api.start('pg-engine', {
      tenantId: 'acme',
      sql: 'select count(*) from category',
    });
    const ended = await api.waitForEnd(arn, Date.now() + 60_000);

    // Assess
    expect(ended.status).toBe('SUCCEEDED');
    expect((ended.output as { rows: unknown[][] }).rows).toEqual([[11]]);
  });
});

describe('Function: readEngineChoice', () => {
  it.each([
    [undefined, 'pglite'],
    ['', 'pglite'],
    ['pglite', 'pglite'],
    ['postgres', 'postgres'],
  ])('reads %j as %s', (value, engine) => {
    // Act & Assess
    expect(readEngineChoice(value)).toBe(engine);
  });

  it('throws for another engine, naming the ones allowed', () => {
    // Act & Assess
    expect(() => readEngineChoice('mysql')).toThrow(
      'SPECTRA_LOCAL_ENGINE must be "pglite" (embedded, the default) or "postgres" (a throwaway PostgreSQL cluster); got "mysql"',
    );
  });
});
