import type { ExecutionRecords } from './execution-record.ts';
import type { SessionRecord } from './session-record.ts';
import type { SessionSlots } from './session-slots.ts';
import type { SlotReservation } from './slot-reservation.ts';

/**
 * What the steps ask of a tenant's pool of Data API sessions. Spectra's pool is
 * {@link SessionStore} (DynamoDB); the benchmark's baselines implement the same interface with the
 * designs they stand for, so that the compiler names every question a design must answer.
 *
 * Giving back what an execution holds is the pool's own rule ({@link SessionPool.giveBack}): the
 * steps say what ran on the sessions, and the pool decides for each whether it goes back as it
 * was, goes back to the pool, or is dropped, and which slots reserved for a session never opened
 * are given back with them.
 */

export interface SessionPolicy {
  keepAliveSeconds: number;
  idleTimeoutSeconds: number;
  maxSessionsPerTenant: number;
  /** The cap on the sessions of every pool together (default: the Data API's 500). */
  maxSessionsTotal?: number;
  /** The cluster or workgroup the total cap counts sessions on (see totalSlotsKeyOf). */
  target?: string;
  /**
   * How long {@link SessionPool.acquire} waits for a leased session of a tenant whose pool is at
   * its cap before it fails. 0 or unset: it never waits.
   */
  acquireWaitMs?: number;
}

/**
 * The pause before the pool is read again while waiting for a session to be given back, after
 * `reads` reads: 20 ms, growing by half each time, at most `maxMs` (200 ms by default, so a few
 * reads a second). A short query gives its session back within tens of milliseconds, so the first
 * reads come soon; a longer wait costs a few reads a second, not one every few milliseconds.
 */
export function poolPollPauseMs(reads: number, maxMs = 200): number {
  return Math.min(maxMs, Math.round(20 * 1.5 ** Math.max(0, reads - 1)));
}

/** `waitedMs`: how long acquire waited for a leased session to be given back. */
export type AcquireResult =
  | {
      kind: 'hit';
      session: SessionRecord;
      expiredRemoved: number;
      waitedMs: number;
      /**
       * The lease took the last idle session of a pool below its cap while another session of it
       * was leased (the tenant runs queries side by side): the slots the pool's records
       * hold, as read, for the spare session SubmitQuery opens beside the statement (see
       * functions/common/session-spare.ts), so that the tenant's next concurrent query finds one
       * idle instead of waiting for one to come back.
       */
      spareWanted?: { heldSlots: HeldSlot[] };
    }
  | {
      kind: 'miss';
      expiredRemoved: number;
      waitedMs: number;
      /** The slots reserved for the session SubmitQuery opens; none: it runs without a session. */
      reservation?: SlotReservation;
      /**
       * Every session of the pool was leased: SubmitQuery opens one and, meanwhile, takes a
       * session that is given back first, if one is (see SubmitQuery).
       */
      sessionsLeased?: boolean;
      /** Every slot of the cluster or workgroup was held (SPECTRA_MAX_SESSIONS_TOTAL). */
      atTotalCap?: boolean;
      /**
       * The tenant's pool is at its cap, and its idle sessions would be closed by the Data API
       * before the query may end (see {@link AcquireOptions.lifeNeededSeconds}): the query runs
       * without a session.
       */
      sessionless?: boolean;
      /** The execution had been stopped: what acquire took was given back. */
      ownerStopped?: boolean;
    };

export interface AcquireOptions {
  /** Overrides the policy's wait at the cap (0: take an idle session or decide at once). */
  waitMs?: number;
  /** The run (redrive count) of the execution; see ExecutionRecords. Default 0. */
  run?: number;
  /**
   * false: no slot is reserved on a miss, and the query runs without a session (SQL that leaves
   * state in its session: a session opened for it would be dropped at once).
   */
  mayOpen?: boolean;
  /**
   * How long the session must stay open: the sessions the Data API would close sooner (it closes
   * every session 24 hours after opening it) are passed over, so that a query that may run for
   * hours gets a session that lasts as long, or a new one. Default 0.
   */
  lifeNeededSeconds?: number;
}

/** A slot a record of the pool holds, under the claim of the reservation it was opened on. */
export interface HeldSlot {
  slot: number;
  claim: string;
}

/** A session as the pool's callers name it. */
export interface PooledSession {
  tenantId: string;
  dbUser: string;
  sessionId: string;
  createdAt: string;
}

/**
 * A session the Data API just opened for `owner` on `reservation`'s slots. `warmupStatementId`:
 * it was opened by a `select 1` that may still be running (see SessionRecord.warmup_statement_id).
 */
export interface OpenedSession extends IdleSession {
  owner: string;
}

/** A session the Data API just opened on `reservation`'s slots, for whichever query comes next. */
export interface IdleSession {
  tenantId: string;
  dbUser: string;
  sessionId: string;
  reservation: SlotReservation;
  warmupStatementId?: string;
}

/** A session an execution holds, as much of its record as giving it back needs. */
export type HeldSession = Pick<SessionRecord, 'session_id' | 'created_at'>;

/** What ran on the sessions an execution gives back, which decides how each goes back. */
export type SessionUse =
  /** Nothing was sent on them since they were leased: each goes back as it was. */
  | { kind: 'unused' }
  /** A statement may still run on any of them, and which is not known: each is dropped. */
  | { kind: 'unknown' }
  /**
   * The execution's statement has ended (at `endedAt`, on the Data API's clock), or it still runs
   * on `runningOn` only. A session goes back to the pool, its keep-alive counted from `endedAt`,
   * when the statement does not run on it, its SQL left no state in it (`leftState`) and
   * `runsNothing` says it runs nothing (the Data API's word); it is dropped otherwise, since a busy
   * or dirty session must not be handed to another execution.
   */
  | {
      kind: 'settled';
      endedAt?: string;
      runningOn?: string;
      leftState: boolean;
      runsNothing: (sessionId: string) => Promise<boolean>;
    };

export interface GiveBackRequest {
  tenantId: string;
  dbUser: string;
  /** The execution ARN whose leases and reservations these are. */
  owner: string;
  use: SessionUse;
  /** The sessions to give back; default: every session of the pool leased to `owner`. */
  sessions?: readonly HeldSession[];
  /** Sessions recorded for `owner` after `pool` was read, given back with the others. */
  alsoHeld?: readonly SessionRecord[];
  /**
   * Reservations `owner` may hold for sessions never opened: each is given back unless a session
   * of the pool holds it (a retried step may have opened one on it).
   */
  reservations?: readonly (SlotReservation | undefined)[];
  /** The pool as the caller just read it; otherwise read here, when it is needed. */
  pool?: readonly SessionRecord[];
}

/** The sessions given back, by how; a session no longer `owner`'s is in none of them. */
export interface GivenBack {
  unleased: string[];
  released: string[];
  dropped: string[];
}

/** The slots a session is opened on; see {@link SessionSlots}. */
export type PoolSlots = Pick<SessionSlots, 'reserve' | 'renew' | 'giveBack'>;

/** What each execution holds, and whether it was stopped; see {@link ExecutionRecords}. */
export type PoolExecutions = Pick<
  ExecutionRecords,
  | 'holdReservation'
  | 'beginOpening'
  | 'beginSubmission'
  | 'recordStatement'
  | 'markStopped'
  | 'read'
>;

export interface SessionPool {
  readonly slots: PoolSlots;
  readonly executions: PoolExecutions;

  /**
   * Leases an idle session of the pool to `owner`, or reserves the slots of the session SubmitQuery
   * opens; at the tenant's cap it waits for a session to be given back, then fails.
   *
   * @throws {SessionPoolExhaustedError} when every session is still leased after the wait and the
   * pool is at its cap.
   */
  acquire(
    tenantId: string,
    dbUser: string,
    owner: string,
    options?: AcquireOptions,
  ): Promise<AcquireResult>;

  /** Every session of one tenant and db user, strongly consistent. */
  listPool(tenantId: string, dbUser: string): Promise<SessionRecord[]>;

  /**
   * Whether a query that needs its session for `lifeNeededSeconds` more may lease this one: not
   * leased, still worth reusing, and not closed by the Data API before then.
   */
  isLeasableFor(record: SessionRecord, now: Date, lifeNeededSeconds: number): boolean;

  /** Leases one session of the pool to `owner` unless it changed since it was read. */
  tryLease(record: SessionRecord, owner: string, now?: Date): Promise<SessionRecord | undefined>;

  /** Records a session just opened for `owner` on `reservation`'s slots, leased to it. */
  recordNewSession(opened: OpenedSession): Promise<SessionRecord>;

  /**
   * Records a spare session just opened on `reservation`'s slots, idle in the pool; undefined
   * when it is recorded already.
   */
  recordIdleSession(opened: IdleSession): Promise<SessionRecord | undefined>;

  /** Extends `owner`'s lease; false when the lease is no longer `owner`'s. */
  renewLease(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
    holdSeconds?: number,
  ): Promise<boolean>;

  /** Returns `owner`'s session to the pool once its statement ended; false when not held. */
  release(session: PooledSession, owner: string, statementEndedAt?: string): Promise<boolean>;

  /** Gives back a lease no statement used; false when `owner` no longer held it. */
  unlease(session: { pool_id: string; session_id: string }, owner: string): Promise<boolean>;

  /** Drops a session from the pool and gives its slots back; false when not `owner`'s. */
  invalidate(tenantId: string, dbUser: string, sessionId: string, owner: string): Promise<boolean>;

  /**
   * Drops a session the Data API refused and keeps its slots for the one that replaces it: the
   * renewed reservation, or undefined when there is none to keep.
   */
  replaceRefusedSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<SlotReservation | undefined>;

  /** Gives back a reservation's slots unless a session of the pool (`pool`, if read) holds them. */
  giveBackUnlessHeld(
    tenantId: string,
    dbUser: string,
    reservation: SlotReservation,
    pool?: readonly SessionRecord[],
  ): Promise<void>;

  /**
   * Gives back what `owner` holds in the tenant's pool, as `request.use` says (see
   * {@link SessionUse}): each session, unleased, released or dropped, then the reservations no
   * session holds. Safe to repeat: each write is conditional on the lease still being `owner`'s.
   */
  giveBack(request: GiveBackRequest): Promise<GivenBack>;
}
