import type { SlotHolder } from './slot-reservation.ts';
import { MAX_SESSION_AGE_SECONDS } from './table-keys.ts';

/**
 * A pooled session as its DynamoDB item says it, and the rules read from that item alone: when a
 * session stops being worth reusing, whether its lease still holds, whether it lasts long enough
 * for a query. The rules are pure, so the pool, the sweep, the race for a session given back and
 * the benchmark's baselines all read a record the same way.
 */

export type SessionState = 'IDLE' | 'LEASED';

/** A session item as stored. Timestamps are ISO 8601 UTC strings, which compare in time order. */
export interface SessionRecord extends SlotHolder {
  pool_id: string;
  session_id: string;
  tenant_id: string;
  db_user: string;
  created_at: string;
  last_used_at: string;
  /** When the Data API closes the session: keep-alive after the last statement, capped at 24 h. */
  expires_at: string;
  /** Epoch seconds for DynamoDB TTL, which deletes late; reads check expiry themselves. */
  ttl: number;
  state: SessionState;
  lease_owner?: string;
  lease_expires_at?: string;
  /**
   * A session opened beside a wait for a released one (see SubmitQuery) whose first statement,
   * a `select 1` that opens its connection, may still be running: whoever leases it waits for
   * that statement before submitting on it. Removed by the first release.
   */
  warmup_statement_id?: string;
}

/** A session is reused only if it stays open at least this much longer: time to submit on it. */
export const REUSE_MARGIN_SECONDS = 30;
/**
 * How long a lease holds without renewal. PollStatus renews it on every poll, for this long after
 * the next one is due (polls are ~20 s apart at first, up to 15 minutes apart for a query of
 * hours), so only a lease whose execution vanished runs out, and then the session returns to the
 * pool on its own.
 */
export const LEASE_SECONDS = 300;

export const iso = (date: Date) => date.toISOString();
export const plusSeconds = (date: Date | string, seconds: number) =>
  new Date(new Date(date).getTime() + seconds * 1000);
export const epochSeconds = (date: Date | string) => Math.ceil(new Date(date).getTime() / 1000);
// ISO strings of one format compare in time order.
export const laterOf = (a: string, b: string) => (a > b ? a : b);
export const earlierOf = (a: string, b: string) => (a < b ? a : b);

/** When a session stops being worth reusing: Data API expiry or Spectra's idle timeout. */
export function usableUntil(record: SessionRecord, idleTimeoutSeconds: number): Date {
  const byKeepAlive = plusSeconds(record.expires_at, -REUSE_MARGIN_SECONDS);
  const byIdle = plusSeconds(record.last_used_at, idleTimeoutSeconds);
  return byKeepAlive < byIdle ? byKeepAlive : byIdle;
}

export function isLeaseLive(record: SessionRecord, now: Date): boolean {
  return (
    record.state === 'LEASED' &&
    record.lease_expires_at !== undefined &&
    record.lease_expires_at > iso(now)
  );
}

export function isExpired(record: SessionRecord, now: Date, idleTimeoutSeconds: number): boolean {
  return usableUntil(record, idleTimeoutSeconds) <= now;
}

/**
 * Whether the Data API would close the session before `lifeNeededSeconds` from now: it closes a
 * session 24 hours after opening it, and ends the statement running on it then.
 */
export function closesWithin(record: SessionRecord, now: Date, lifeNeededSeconds: number): boolean {
  const closesAt = plusSeconds(record.created_at, MAX_SESSION_AGE_SECONDS - REUSE_MARGIN_SECONDS);
  return closesAt < plusSeconds(now, lifeNeededSeconds);
}

/** The sessions of `pool` leased to `owner`. */
export const leasesOf = (pool: readonly SessionRecord[], owner: string): SessionRecord[] =>
  pool.filter((record) => record.state === 'LEASED' && record.lease_owner === owner);

/**
 * The order idle sessions are leased in: those ready to run a statement first, then those whose
 * opening `select 1` may still run (a spare opened moments ago; whoever leases it waits for its
 * opening), and within each the most recently used first, since it is the one most surely still
 * open.
 */
export function leaseOrder(a: SessionRecord, b: SessionRecord): number {
  const warming = Number(a.warmup_statement_id !== undefined);
  const otherWarming = Number(b.warmup_statement_id !== undefined);
  if (warming !== otherWarming) return warming - otherWarming;
  return a.last_used_at < b.last_used_at ? 1 : -1;
}
