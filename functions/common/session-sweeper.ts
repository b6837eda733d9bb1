import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';
import { isLeaseLive, type SessionRecord } from './session-record.ts';
import type { SlotItem } from './session-slots.ts';
import { SessionStore } from './session-store.ts';

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
        { TableName: this.table.name, ConsistentRead: true },
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
              !isLeaseLive(record, now) &&
              this.isExpired(record, now) &&
              (await this.removeExpired(record, now))
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
    return this.deleteAsRead(
      slot,
      'claim = :claim AND expires_at = :seenExpires',
      { ':claim': slot.claim, ':seenExpires': slot.expires_at },
      'DynamoDB DeleteItem (lapsed slot)',
    );
  }

  /** Deletes a mark or claim as it was read: a claim written again since then is kept. */
  private async deleteMark(mark: { pool_id: string; session_id: string; expires_at: string }) {
    return this.deleteAsRead(
      mark,
      'expires_at = :seenExpires',
      { ':seenExpires': mark.expires_at },
      'DynamoDB DeleteItem (mark)',
    );
  }

  /** Deletes an internal item unless it changed since the scan read it; false if it did. */
  private async deleteAsRead(
    item: { pool_id: string; session_id: string },
    condition: string,
    values: Record<string, string>,
    operation: string,
  ): Promise<boolean> {
    const deleted = await this.table.write(
      {
        Delete: {
          Key: { pool_id: item.pool_id, session_id: item.session_id },
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        },
      },
      operation,
    );
    return deleted !== undefined;
  }
}
