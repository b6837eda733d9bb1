import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';
import type { SlotItem } from './session-slots.ts';
import { type SessionRecord, SessionStore } from './session-store.ts';
import { internalKindOf } from './table-keys.ts';

/**
 * The session store of the scheduled clean-up, the one caller that reads the whole table. It is a
 * module of its own so that only CleanupSessions imports the Scan: the functions of the Data API
 * role never do, and that role is not granted `dynamodb:Scan` (test/infra checks the grants
 * against the imports of each role's functions).
 */
export class SessionSweeper extends SessionStore {
  /**
   * Deletes every record whose session can no longer be reused and that no live lease holds
   * (giving its slots back), the records of executions past their `expires_at`, and the slots
   * whose opener vanished: a reservation past its `expires_at` that no session of its pool holds.
   * DynamoDB TTL deletes the first two eventually (within days); this keeps the table exact and
   * frees slots that TTL would not free for a day.
   *
   * @returns how many items were deleted.
   */
  async cleanupExpiredSessions(): Promise<number> {
    const now = this.clock();
    const nowText = now.toISOString();
    let deleted = 0;
    try {
      const pages = paginateScan(
        { client: this.ddb },
        { TableName: this.tableName, ConsistentRead: true },
      );
      for await (const page of pages) {
        for (const item of (page.Items ?? []) as (SessionRecord | SlotItem)[]) {
          const kind = internalKindOf(item);
          if (kind === 'slot' || kind === 'total-slot') {
            if (await this.reclaimSlot(item as SlotItem, nowText)) deleted++;
          } else if (kind !== undefined) {
            // An internal item without an expiry is never swept.
            if (item.expires_at <= nowText && (await this.deleteMark(item))) deleted++;
          } else {
            const record = item as SessionRecord;
            if (
              !this.isLeaseLive(record, now) &&
              this.isExpired(record, now) &&
              (await this.deleteIfUnchanged(record, now))
            )
              deleted++;
          }
        }
      }
    } catch (error) {
      rethrowTransient(error, 'DynamoDB Scan (cleanup)');
    }
    return deleted;
  }

  /**
   * Deletes a slot whose reservation lapsed and that no session of its pool holds: its opener
   * vanished before it recorded a session, or the session's record went without giving it back
   * (DynamoDB TTL, a step that died between the two deletes). The pool is read now, not taken from
   * the scan, which is no snapshot.
   */
  private async reclaimSlot(slot: SlotItem, nowText: string): Promise<boolean> {
    if (slot.expires_at > nowText) return false;
    const [tenantId = '', ...rest] = slot.pool.split('#');
    const pool = await this.listPool(tenantId, rest.join('#'));
    if (pool.some((record) => record.slot_claim === slot.claim)) return false;
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pool_id: slot.pool_id, session_id: slot.session_id },
          ConditionExpression: 'claim = :claim AND expires_at = :seenExpires',
          ExpressionAttributeValues: { ':claim': slot.claim, ':seenExpires': slot.expires_at },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (lapsed slot)');
    }
  }
}
