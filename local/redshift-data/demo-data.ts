import { readFileSync } from 'node:fs';
import type { SqlEngine } from './sql-engine.ts';

/**
 * The SQL the emulator loads into its engine at start: the Redshift shims (GETDATE, NVL, ...) and
 * the TICKIT-style demo schema. Both are plain SQL files, so they can be read and run by hand
 * (`psql -f`) as well.
 */

export const REDSHIFT_SHIMS_SQL_URL = new URL('./redshift-shims.sql', import.meta.url);
export const DEMO_SCHEMA_SQL_URL = new URL('./demo-schema.sql', import.meta.url);

/** The tenants whose rows `sales` and `listing` hold; each one's db user is its id. */
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

export function readRedshiftShims(): string {
  return readFileSync(REDSHIFT_SHIMS_SQL_URL, 'utf8');
}

/** Creates (or replaces) the Redshift compatibility functions; idempotent. */
export async function loadRedshiftShims(engine: SqlEngine): Promise<void> {
  await engine.admin(readRedshiftShims());
}

/** Replaces the demo tables with freshly generated rows (the same rows every time). */
export async function loadDemoData(engine: SqlEngine): Promise<void> {
  await engine.admin(readFileSync(DEMO_SCHEMA_SQL_URL, 'utf8'));
}
