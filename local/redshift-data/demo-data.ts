import { readFileSync } from 'node:fs';
import { DEFAULT_DB_USER_TEMPLATE, dbUserFor } from '../../functions/common/config.ts';
import type { SqlEngine } from './sql-engine.ts';

/**
 * The SQL the emulator loads into its engine at start: the Redshift shims (GETDATE, NVL, ...) and
 * the TICKIT-style demo schema. Both are plain SQL files, so they can be read and run by hand
 * (`psql -f`) as well. Then the demo tenants' database users, which exist from the start as a
 * deployment's tenants' users exist before their first query.
 */

export const REDSHIFT_SHIMS_SQL_URL = new URL('./redshift-shims.sql', import.meta.url);
export const DEMO_SCHEMA_SQL_URL = new URL('./demo-schema.sql', import.meta.url);

/** The tenants whose rows `sales` and `listing` hold. */
export const DEMO_TENANTS = ['acme', 'globex', 'initech', 'umbrella'] as const;

/** The demo tables, all in `public`; `sales` and `listing` are row-level secured by tenant. */
export const DEMO_TABLES = [
  'users',
  'venue',
  'category',
  'date',
  'event',
  'listing',
  'sales',
] as const;

/** A tenant's database user, and the tenant whose rows row-level security shows it. */
export interface TenantUser {
  tenantId: string;
  dbUser: string;
}

/** The demo tenants' users, named by `template` as Spectra names them (`SPECTRA_DB_USER_TEMPLATE`). */
export function demoTenantUsers(template = DEFAULT_DB_USER_TEMPLATE): TenantUser[] {
  return DEMO_TENANTS.map((tenantId) => ({ tenantId, dbUser: dbUserFor(tenantId, template) }));
}

export function readRedshiftShims(): string {
  return readFileSync(REDSHIFT_SHIMS_SQL_URL, 'utf8');
}

/** Creates (or replaces) the Redshift compatibility functions; idempotent. */
export async function loadRedshiftShims(engine: SqlEngine): Promise<void> {
  await engine.admin(readRedshiftShims());
}

/**
 * Creates a tenant's database user with the demo grants (what every user has, and SELECT on the
 * demo tables through PUBLIC) and records which tenant's rows it sees (`tenant_users`, which the
 * row-level security of `sales` and `listing` reads). Idempotent; true when it created the user.
 */
export async function createTenantUser(engine: SqlEngine, user: TenantUser): Promise<boolean> {
  const created = await engine.createUser(user.dbUser);
  await engine.admin(
    `INSERT INTO tenant_users (db_user, tenant_id) VALUES ($1, $2)
     ON CONFLICT (db_user) DO UPDATE SET tenant_id = EXCLUDED.tenant_id`,
    [user.dbUser, user.tenantId],
  );
  return created;
}

/**
 * Replaces the demo tables with freshly generated rows (the same rows every time), and creates the
 * demo tenants' users.
 */
export async function loadDemoData(
  engine: SqlEngine,
  users: TenantUser[] = demoTenantUsers(),
): Promise<void> {
  await engine.admin(readFileSync(DEMO_SCHEMA_SQL_URL, 'utf8'));
  for (const user of users) await createTenantUser(engine, user);
}
