import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndedExecution, StackApi } from '../../bench/chaos/stack-api.ts';
import { dbUserFor, loadConfig, RESERVED_DB_USERS } from '../../functions/common/config.ts';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { SessionStore } from '../../functions/common/session-store.ts';
import { SessionSweeper } from '../../functions/common/session-sweeper.ts';
import { INTERNAL_KEY_PREFIXES, poolIdOf } from '../../functions/common/table-keys.ts';
import { executionArnOf, LOCAL_STATE_MACHINE_NAME } from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';
import { runNode } from '../support/spawn.ts';

/**
 * The tenant boundary tried as an attacker would, through the local stack over HTTP: whoever
 * starts an execution chooses the tenant id, so no tenant id may reach another tenant's rows, a
 * system user, or Spectra's own items in the sessions table. Run on each SQL engine.
 */

const HOUR_MS = 3_600_000;
/** What an attacker who may start executions runs as a system or administrator name. */
const READ_EVERY_TENANT = 'select current_user, count(distinct tenant_id) from sales';
/** The deployment's own administrator, in the tenants' namespace, named in the deny-list. */
const DENIED_TENANT = 'ops';

export function describeTenantBoundarySuite(
  engineName: string,
  databaseUrl: () => string | undefined,
): void {
  describe(`Tenant boundary, through the local stack on ${engineName}`, () => {
    let stack: LocalStack;
    let api: StackApi;
    /** A prefix no other test run uses, for tenant ids. */
    const run = `t${randomUUID().slice(0, 6)}`;

    beforeAll(async () => {
      process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
      process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
      process.env.SPECTRA_DENIED_DB_USERS = dbUserFor(DENIED_TENANT, 'tenant_{tenant}');
      ({ stack, api } = await startStackWithApi({ databaseUrl: databaseUrl() }));
    }, 120_000);

    afterAll(async () => {
      api?.destroy();
      await stack?.stop();
    });

    const dbUserOf = (tenantId: string) =>
      dbUserFor(tenantId, loadConfig(process.env).dbUserTemplate);

    async function query(input: unknown): Promise<EndedExecution> {
      const arn = await api.start(randomUUID(), input);
      return api.waitForEnd(arn, Date.now() + 60_000, 25);
    }

    /** Calls that reached DynamoDB or the Data API, by operation, since `before`. */
    async function dataCallsSince(before: Record<string, number>) {
      const after = (await api.counters()).calls;
      return Object.entries(after)
        .filter(([target]) => /^(DynamoDB_20120810|RedshiftData)\./.test(target))
        .filter(([target, count]) => count !== (before[target] ?? 0))
        .map(([target]) => target);
    }

    describe('System and administrator names as tenant ids', () => {
      it.each([...RESERVED_DB_USERS])(
        'runs tenant %s as its namespaced user, never as that system user',
        async (name) => {
          // Act: the attack as it was, then again once the tenant's user exists
          const before = await query({ tenantId: name, sql: READ_EVERY_TENANT });
          await api.control('db-users', { tenantId: name });
          const after = await query({ tenantId: name, sql: READ_EVERY_TENANT });

          // Assess: no user of that name exists in the namespace at first; then the tenant's own
          // user runs it, and row-level security shows it no tenant's rows
          expect(before.status).toBe('FAILED');
          expect(before.cause?.redshiftError).toBe(
            `FATAL: user "IAM:${dbUserOf(name)}" does not exist`,
          );
          expect(dbUserOf(name)).not.toBe(name);
          expect(after.status).toBe('SUCCEEDED');
          expect(after.output?.rows).toEqual([[dbUserOf(name), 0]]);
        },
      );

      it('runs no program on the host for tenant postgres', async () => {
        // Prepare
        const marker = join(tmpdir(), `spectra-${run}-copy-to-program`);
        await api.control('db-users', { tenantId: 'postgres' });

        // Act
        const ended = await query({
          tenantId: 'postgres',
          sql: `copy (select 1) to program 'id > ${marker}'`,
        });

        // Assess
        expect(ended.status).toBe('FAILED');
        expect(ended.error).toBe('QueryFailedError');
        expect(existsSync(marker)).toBe(false);
      });

      it('refuses a tenant whose user is in SPECTRA_DENIED_DB_USERS, touching no table or warehouse', async () => {
        // Prepare
        const before = (await api.counters()).calls;

        // Act
        const ended = await query({ tenantId: DENIED_TENANT, sql: READ_EVERY_TENANT });

        // Assess
        expect(ended.status).toBe('FAILED');
        expect(ended.error).toBe('InvalidInputError');
        expect(String(ended.cause?.message)).toContain(
          `tenantId "${DENIED_TENANT}" would run as database user "${dbUserOf(DENIED_TENANT)}", which is denied by SPECTRA_DENIED_DB_USERS`,
        );
        expect(await dataCallsSince(before)).toEqual([]);
      });

      it('refuses to create a database user the deny-list names', async () => {
        // Act
        const response = await fetch(`${stack.url}/_spectra/db-users`, {
          method: 'POST',
          body: JSON.stringify({ tenantId: DENIED_TENANT }),
        });

        // Assess
        expect(response.status).toBe(400);
        expect(((await response.json()) as { message: string }).message).toMatch(
          /denied by SPECTRA_DENIED_DB_USERS/,
        );
      });
    });

    describe('Database users', () => {
      it('fails the query of a tenant whose user does not exist, as Redshift fails it', async () => {
        // Prepare
        const tenantId = `${run}-unknown`;

        // Act
        const ended = await query({ tenantId, sql: 'select current_user' });

        // Assess
        expect(ended.status).toBe('FAILED');
        expect(ended.error).toBe('QueryFailedError');
        expect(ended.cause?.redshiftError).toBe(
          `FATAL: user "IAM:${dbUserOf(tenantId)}" does not exist`,
        );
      });

      it("creates a tenant's user with POST /_spectra/db-users: it then sees its own rows only", async () => {
        // Prepare: a new tenant, without rows of its own yet, and an existing one
        const tenantId = `${run}-newco`;

        // Act
        const created = await api.control('db-users', { tenantId });
        const again = await api.control('db-users', { tenantId });
        const ended = await query({
          tenantId,
          sql: 'select current_user as usr, count(*) as sales from sales',
        });

        // Assess
        expect(created).toEqual({ tenantId, dbUser: dbUserOf(tenantId), created: true });
        expect(again).toEqual({ tenantId, dbUser: dbUserOf(tenantId), created: false });
        expect(ended.status).toBe('SUCCEEDED');
        expect(ended.output?.rows).toEqual([[dbUserOf(tenantId), 0]]);
      });

      it('refuses POST /_spectra/db-users for an id that is no tenant id', async () => {
        // Act
        const response = await fetch(`${stack.url}/_spectra/db-users`, {
          method: 'POST',
          body: JSON.stringify({ tenantId: 'Not A Tenant' }),
        });

        // Assess
        expect(response.status).toBe(400);
        expect(((await response.json()) as { message: string }).message).toMatch(
          /^Expected \{"tenantId": "<tenant id>"\}, a tenant id of 1-63 characters/,
        );
      });
    });

    describe("Spectra's own items in the sessions table", () => {
      it.each([...INTERNAL_KEY_PREFIXES])(
        'refuses the internal key prefix %s as a tenant id',
        async (prefix) => {
          // Act
          const ended = await query({ tenantId: prefix, sql: 'select 1' });

          // Assess
          expect(ended.status).toBe('FAILED');
          expect(ended.error).toBe('InvalidInputError');
        },
      );

      it.each([...INTERNAL_KEY_PREFIXES])(
        'keeps the live lease of the tenant named after %s through cleanupExpiredSessions()',
        async (prefix) => {
          // Prepare: the tenant named as the prefix's kind has an idle session, which a long
          // statement of another execution then holds past the session's keep-alive (PollStatus
          // renews the lease meanwhile); clocks are set, not waited for
          const tenantId = prefix.replaceAll('#', '');
          const dbUser = dbUserOf(tenantId);
          await api.control('db-users', { tenantId });
          expect((await query({ tenantId, sql: 'select 1' })).status).toBe('SUCCEEDED');
          const config = loadConfig(process.env);
          const policy = {
            keepAliveSeconds: config.sessionKeepAliveSeconds,
            idleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
            maxSessionsPerTenant: config.maxSessionsPerTenant,
          };
          const now = new Date();
          const later = new Date(now.getTime() + config.sessionKeepAliveSeconds * 1000 + HOUR_MS);
          const table = config.sessionsTableName;
          const owner = executionArnOf(LOCAL_STATE_MACHINE_NAME, `${run}-${tenantId}`);
          const leased = await new SessionStore(api.documents, table, policy, () => now).acquire(
            tenantId,
            dbUser,
            owner,
          );
          expect(leased.kind).toBe('hit');
          const store = new SessionStore(api.documents, table, policy, () => later);
          const session = leased.kind === 'hit' ? leased.session.session_id : '';
          expect(await store.renewLease(tenantId, dbUser, session, owner)).toBe(true);

          // Act
          await new SessionSweeper(
            api.documents,
            table,
            policy,
            () => later,
          ).cleanupExpiredSessions();

          // Assess: the session is still in the tenant's pool, leased to its execution
          const pool = (await api.sessionRecords()).filter(
            (record: SessionRecord) => record.pool_id === poolIdOf(tenantId, dbUser),
          );
          expect(pool).toEqual([
            expect.objectContaining({ session_id: session, state: 'LEASED', lease_owner: owner }),
          ]);
        },
      );
    });

    describe('npm run create-db-user', () => {
      it("creates the tenant's user on a running local stack, and says so", async () => {
        // Prepare
        const tenantId = `${run}-scripted`;

        // Act
        const created = await runNode(
          ['--import', 'tsx', 'scripts/create-db-user.ts', tenantId, '--endpoint', stack.url],
          { timeoutMs: 60_000 },
        );
        const ended = await query({ tenantId, sql: 'select current_user' });

        // Assess
        expect(created.code).toBe(0);
        expect(created.stdout.trim()).toBe(
          `Created database user ${dbUserOf(tenantId)} for tenant ${tenantId}: it sees the tenant's rows of sales and listing.`,
        );
        expect(ended.status).toBe('SUCCEEDED');
        expect(ended.output?.rows).toEqual([[dbUserOf(tenantId)]]);
      });

      it('fails with the reason, and exit code 1, for an id that is no tenant id', async () => {
        // Act
        const failed = await runNode(
          ['--import', 'tsx', 'scripts/create-db-user.ts', 'Bad_Tenant', '--endpoint', stack.url],
          { timeoutMs: 60_000 },
        );

        // Assess
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain('Tenant Bad_Tenant: Expected {"tenantId": "<tenant id>"}');
      });
    });
  });
}
