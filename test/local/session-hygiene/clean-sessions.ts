import { beforeAll, expect, it } from 'vitest';
import type { StackApi } from '../../../bench/chaos/stack-api.ts';
import type { HygieneSuite } from './context.ts';

/**
 * Transaction control is refused before anything runs, and a SET or a temporary table never reaches
 * a later query of the tenant or of another tenant.
 */

export function describeCleanSessions(suite: HygieneSuite): void {
  const { query, succeeded, rowsOf, tenantWithTable, rowsCounted, closeEverySession } = suite;
  let api: StackApi;
  beforeAll(() => {
    ({ api } = suite.started());
  });

  it('refuses begin before touching anything, and the insert after it is not lost', async () => {
    // Prepare
    const { tenantId, table } = await tenantWithTable('begin');
    const before = (await api.counters()).calls;

    // Act
    const begun = await query({ tenantId, sql: 'begin' });
    const afterBegin = (await api.counters()).calls;
    const inserted = await succeeded({ tenantId, sql: `insert into ${table} values (1)` });
    await closeEverySession();
    const count = await rowsCounted(tenantId, table);

    // Assess
    expect(begun.status).toBe('FAILED');
    expect(begun.error).toBe('InvalidInputError');
    expect(String(begun.cause?.message)).toContain('statements');
    const touched = Object.keys(afterBegin).filter(
      (target) =>
        // No statement, and no lease or session written (the failure path only reads the pool).
        /^(RedshiftData\.|DynamoDB_20120810\.(PutItem|UpdateItem))/.test(target) &&
        afterBegin[target] !== before[target],
    );
    expect(touched).toEqual([]);
    expect(inserted.totalRows).toBe(1);
    expect(count).toEqual([[1]]);
  });

  it('refuses begin and an insert sent together as sql, and writes nothing', async () => {
    const { tenantId, table } = await tenantWithTable('together');

    const refused = await query({
      tenantId,
      sql: `begin; insert into ${table} values (1)`,
    });
    const count = await rowsCounted(tenantId, table);

    expect(refused.error).toBe('InvalidInputError');
    expect(count).toEqual([[0]]);
  });

  it('keeps a SET and a temporary table from every later query of the tenant and of others', async () => {
    // Prepare: the demo tenants' sales, counted before anything is planted.
    const acme = 'acme';
    const globex = 'globex';
    const count = 'select count(*) from sales';
    const acmeCount = rowsOf(await succeeded({ tenantId: acme, sql: count }));
    const globexCount = rowsOf(await succeeded({ tenantId: globex, sql: count }));

    // Act: acme plants a setting and a temporary table that shadows sales.
    const planted = [
      await succeeded({ tenantId: acme, sql: 'set search_path to pg_catalog' }),
      await succeeded({ tenantId: acme, sql: 'create temp table sales as select 42 as n' }),
    ];
    const later: unknown[][][] = [];
    for (let i = 0; i < 6; i++) {
      later.push(rowsOf(await succeeded({ tenantId: acme, sql: count })));
      later.push(rowsOf(await succeeded({ tenantId: globex, sql: count })));
    }
    const path = await succeeded({
      tenantId: acme,
      sql: "select current_setting('search_path')",
    });
    const records = await api.sessionRecords();

    // Assess
    expect(later).toEqual(Array.from({ length: 6 }, () => [acmeCount, globexCount]).flat());
    expect(rowsOf(path)[0]?.[0]).not.toBe('pg_catalog');
    const pooled = new Set(records.map((record) => record.session_id));
    for (const output of planted)
      if (output.sessionId) expect(pooled.has(output.sessionId as string)).toBe(false);
  });
}
