import * as z from 'zod';

/**
 * The state the workflow carries from step to step: internal to Spectra, written by one step and
 * read by the next. Each step's handler validates the part it reads (functions/common/handler.ts),
 * so a definition edited by hand fails loudly at the step that got the wrong shape.
 */

export const statementStatusSchema = z.enum([
  'SUBMITTED',
  'PICKED',
  'STARTED',
  'FINISHED',
  'FAILED',
  'ABORTED',
]);
export type StatementStatus = z.infer<typeof statementStatusSchema>;

/**
 * What the steps keep of the query. Its SQL and parameters are not in it: they stay in the
 * execution input, which Submit Query reads them from, so that the state stays small whatever
 * the SQL (see functions/common/payload-limits.ts).
 */
export const querySchema = z.object({
  tenantId: z.string(),
  dbUser: z.string(),
  /** A batch's number of statements (BatchExecuteStatement); absent for one `sql`. */
  batchSize: z.number().int().min(1).optional(),
  /** The SQL leaves state in its session (see leavesSessionState, functions/common/execution-input.ts): it is dropped after. */
  leavesSessionState: z.boolean(),
  rowLimit: z.number().int().min(1).optional(),
  byteLimit: z.number().int().min(1).optional(),
  /** The query's timeout, from its input or SPECTRA_QUERY_TIMEOUT_SECONDS. */
  timeoutSeconds: z.number().int().min(1),
  /** When the timeout passes (ISO 8601): the execution's start plus `timeoutSeconds`. */
  deadline: z.string(),
});

/** The slots reserved for a session about to be opened (see functions/common/session-slots.ts). */
export const slotReservationSchema = z.object({
  claim: z.string(),
  slot: z.number().int().min(0),
  totalSlot: z.number().int().min(0),
  reservedAt: z.string(),
});

export const sessionRefSchema = z.object({
  /** null: no session yet (SubmitQuery opens one) or the query runs without one. */
  sessionId: z.string().nullable(),
  reused: z.boolean(),
  /** When the Data API opened the session; its life is capped at 24 hours from then. */
  createdAt: z.string().optional(),
  /** With no session yet: the slots SubmitQuery opens one on; without them it runs sessionless. */
  reservation: slotReservationSchema.optional(),
  /**
   * With no session yet: every session of the pool was leased, so SubmitQuery also takes one that
   * is given back before the session it opens is ready.
   */
  sessionsLeased: z.boolean().optional(),
  /** A pooled session whose opening `select 1` may still run: SubmitQuery waits for it first. */
  warmupStatementId: z.string().optional(),
  /**
   * The leased session was the pool's last idle one, below the cap: SubmitQuery opens a spare
   * beside the statement, avoiding the slots the pool's records hold (as AcquireSession read them).
   */
  spare: z
    .object({
      heldSlots: z.array(z.object({ slot: z.number().int().min(0), claim: z.string() })),
    })
    .optional(),
  /**
   * true when the query ran without a session: the Data API was at its session limit, or the SQL
   * leaves state in its session and no pooled session was free (a session opened for it would be
   * dropped at once, and count against the Data API's session limit until its keep-alive ran out),
   * or the pool was full of sessions the Data API closes before the query's deadline.
   */
  sessionless: z.boolean().optional(),
});

export const statementSchema = z.object({
  statementId: z.string(),
  status: statementStatusSchema,
  /** Seconds the Wait state waits before the next poll; 0 goes straight back to PollStatus. */
  waitSeconds: z.number().int().min(0),
  polls: z.number().int().min(0),
  hasResultSet: z.boolean().optional(),
  resultRows: z.number().optional(),
  /** When the statement ended, on the Data API's clock (ISO 8601). */
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  /** A batch's: the index in `statements` (from 0) of the statement that failed. */
  failedIndex: z.number().int().min(0).optional(),
  /** A batch's: each statement's status, in order (at most 40). */
  subStatuses: z.array(statementStatusSchema).optional(),
  /** When Submit Query sent it (ISO 8601, the functions' clock): the polling schedule's origin. */
  submittedAt: z.string().optional(),
  /**
   * Why Spectra cancelled it: its timeout passed (`timeout`), or the execution's history neared
   * its limit (`history`). The state machine then goes to the failure path, whatever the status.
   */
  cancelledFor: z.enum(['timeout', 'history']).optional(),
});

/** A Catch puts the caught error here: `{Error, Cause}` as Step Functions reports it. */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export const queryStateSchema = z.object({
  executionArn: z.string(),
  /**
   * The run of the execution (`$$.Execution.RedriveCount` when AcquireSession ran): a stop of an
   * earlier run does not touch a redrive, and the ClientToken of a new run is new. Absent: 0.
   */
  run: z.number().int().min(0).optional(),
  query: querySchema,
  session: sessionRefSchema,
  /** Counts submissions; part of the ClientToken, so a retried Lambda resends the same token. */
  submitAttempt: z.number().int().min(0),
  /** Resubmissions after a stale session; bounded. */
  resubmits: z.number().int().min(0),
  /**
   * At least as many events as the execution's history holds so far: each step adds the most its
   * state can write, retries included (see functions/common/polling.ts). The guard against the
   * 25,000-event limit reads it.
   */
  historyEventsBound: z.number().int().min(0),
  statement: statementSchema.optional(),
  error: caughtErrorSchema.optional(),
});

/** The state of the steps after SubmitQuery, which read its statement. */
export const submittedStateSchema = queryStateSchema.extend({ statement: statementSchema });

export type Query = z.infer<typeof querySchema>;
export type SessionRef = z.infer<typeof sessionRefSchema>;
export type StatementState = z.infer<typeof statementSchema>;
export type QueryState = z.infer<typeof queryStateSchema>;
export type SubmittedState = z.infer<typeof submittedStateSchema>;
export type CaughtError = z.infer<typeof caughtErrorSchema>;
