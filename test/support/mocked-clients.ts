import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { deletedItem } from './unit-deps.ts';

/**
 * The AWS clients as the unit tests and SpectraClient's tests mock them, with aws-sdk-client-mock:
 * the Data API, the sessions table, the results bucket and Step Functions. Importing this module
 * stubs every client of these classes; those tests share one module graph per worker
 * (vitest.config.ts), so the mocks are made once here, every such test takes them from here and
 * none makes its own (a second `mockClient` of a class replaces the first, whose answers then
 * stop). test/support/reset-mocked-clients.ts resets them before each test.
 */
export const ddb = mockClient(DynamoDBDocumentClient);
export const redshift = mockClient(RedshiftDataClient);
export const s3 = mockClient(S3Client);
export const sfn = mockClient(SFNClient);

/**
 * Forgets every answer and call of the mocks; then the sessions table takes every write (a put or
 * an update succeeds, a conditional delete answers the item it deleted) and its queries find
 * `pool`, and the results bucket takes every PutObject. A test replaces any of these answers with
 * its own.
 */
export function resetClients(pool: SessionRecord[] = []): void {
  redshift.reset();
  ddb.reset();
  s3.reset();
  sfn.reset();
  s3.on(PutObjectCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).callsFake(deletedItem);
  ddb.on(QueryCommand).resolves({ Items: pool });
}

/**
 * A session of the tenant `acme` (database user `tenant_acme`) as its pool keeps it: opened an
 * hour before the unit tests' clock, last used a minute before it, and idle.
 */
export function pooledSession(fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    pool_id: 'acme#tenant_acme',
    session_id: 'sess-1',
    tenant_id: 'acme',
    db_user: 'tenant_acme',
    created_at: '2026-11-28T11:00:00.000Z',
    last_used_at: '2026-11-28T11:59:00.000Z',
    expires_at: '2026-11-28T12:59:00.000Z',
    ttl: 0,
    state: 'IDLE',
    ...fields,
  };
}
