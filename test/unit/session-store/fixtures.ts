import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import type { SessionRecord } from '../../../functions/common/session-record.ts';
import { SessionStore } from '../../../functions/common/session-store.ts';
import { SessionSweeper } from '../../../functions/common/session-sweeper.ts';
import { ddb } from '../../support/mocked-clients.ts';
import { EXECUTION_ARN, NOW } from '../../support/unit-deps.ts';

// The sessions table's mock, shared with the steps' tests (one mock of a class per test file).
export { ddb };

/** What every test starts from: a table with no item, whose calls are forgotten. */
export const emptyTable = () => ddb.reset();

/** The store over a mocked DynamoDB, its sweeper, and the pool items the tests hand it. */

export const policy = { keepAliveSeconds: 3600, idleTimeoutSeconds: 300, maxSessionsPerTenant: 2 };
export const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const store = new SessionStore(documents, 'sessions', policy, () => NOW);
export const sweeper = new SessionSweeper(documents, 'sessions', policy, () => NOW);
export const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
export const ahead = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

export function session(id: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    pool_id: 'acme#acme',
    session_id: id,
    tenant_id: 'acme',
    db_user: 'acme',
    created_at: ago(600),
    last_used_at: ago(60),
    expires_at: ahead(3540),
    ttl: 0,
    state: 'IDLE',
    ...fields,
  };
}

/** An idle session opened 20 hours ago, too close to its end for most queries, on slot `slot`. */
export const openedLongAgo = (id: string, slot: number) =>
  session(id, { created_at: ago(20 * 3600), slot, total_slot: slot, slot_claim: `c-${slot}` });

export { conditionFailed } from '../../support/service-answers.ts';

/** The pool's reads answer `items`; every other partition (the slots) is empty. */
export function poolHolds(...items: SessionRecord[]) {
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
    .resolves({ Items: items });
}
/** The tenant's slot items, as a read of its slots answers them. */
export function tenantSlotsHold(
  ...slots: { session_id: string; claim: string; expires_at: string }[]
) {
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':partition': '#slot#acme#acme' } })
    .resolves({ Items: slots.map((slot) => ({ pool_id: '#slot#acme#acme', ...slot })) });
}
export const poolUpdates = () =>
  ddb.commandCalls(UpdateCommand).filter((call) => call.args[0].input.Key?.pool_id === 'acme#acme');
export const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
export const leasedTo = (owner: string, slot?: number) => ({
  state: 'LEASED' as const,
  lease_owner: owner,
  lease_expires_at: ahead(200),
  ...(slot === undefined ? {} : { slot, total_slot: slot, slot_claim: `claim-${slot}` }),
});

/** Free slots, and an execution record that takes every write. */
export function freeSlotsAndRecord() {
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
}

/** The result of an acquire that leased `sessionId`. */
export function expectHit(result: unknown, sessionId: string) {
  expect(result).toEqual(
    expect.objectContaining({
      kind: 'hit',
      session: expect.objectContaining({ session_id: sessionId }),
    }),
  );
}

/** A store that waits up to 300 ms; its pauses are recorded, not slept. */
export function waitingStore() {
  const pauses: number[] = [];
  const waiting = new SessionStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    'sessions',
    { ...policy, acquireWaitMs: 300 },
    () => NOW,
    async (ms) => {
      pauses.push(ms);
    },
  );
  return { waiting, pauses };
}
