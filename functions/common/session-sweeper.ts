import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';
import { isInternalItem, type SessionRecord, SessionStore } from './session-store.ts';

/**
 * The session store of the scheduled clean-up, the one caller that reads the whole table. It is a
 * module of its own so that only CleanupSessions imports the Scan: the functions of the Data API
 * role never do, and that role is not granted `dynamodb:Scan` (test/infra checks the grants
 * against the imports of each role's functions).
 */
export class SessionSweeper extends SessionStore {
  /**
   * Deletes every record whose session can no longer be reused and that no live lease holds, and
   * Spectra's own items (marks of stopped executions, opening claims) past their `expires_at`.
   * DynamoDB TTL does the same eventually (within days); this keeps the table exact.
   *
   * @returns how many records were deleted.
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
        for (const record of (page.Items ?? []) as SessionRecord[]) {
          if (isInternalItem(record)) {
            // An internal item without an expiry is never swept: it is not a mark or a claim.
            if (record.expires_at <= nowText && (await this.deleteMark(record))) deleted++;
            continue;
          }
          if (
            !this.isLeaseLive(record, now) &&
            this.isExpired(record, now) &&
            (await this.deleteIfUnchanged(record, now))
          ) {
            deleted++;
          }
        }
      }
    } catch (error) {
      rethrowTransient(error, 'DynamoDB Scan (cleanup)');
    }
    return deleted;
  }
}
