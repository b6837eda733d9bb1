import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';
import type { SlotReservation } from './slot-reservation.ts';
import { conditionalWrite } from './table-io.ts';
import { internalPoolId } from './table-keys.ts';

/**
 * One item per execution, `#execution#<execution ARN>`, where the steps of a run write what they
 * are about to hold (a reservation, the submission under way and its statement) and where the
 * clean-up of a stopped execution writes that the run was stopped. Every write of a step is
 * conditional on its run not being stopped, and the clean-up's write returns what the steps wrote
 * before it. One item orders the two: either a step's write comes first, and the clean-up reads
 * what the step holds and gives it back, or the clean-up's comes first, and the step's write fails
 * and the step gives back what it took itself. Both may; everything they give back is conditional.
 *
 * A run is a redrive count: a redrive of a stopped execution is a new run, which the stop of the
 * earlier one does not touch, while a step of the stopped run that is still running (Step Functions
 * does not stop a running Lambda) sees the stop at its next write.
 */

/**
 * How long the record is kept after its last write: far longer than a step of a stopped execution
 * can still run (a Lambda's timeout). Only the submission under way needs it; once SubmitQuery has
 * returned, the execution's history names the statement.
 */
export const EXECUTION_RECORD_SECONDS = 3600;

/** A submission of the query: its ClientToken is `clientTokenFor(arn, attempt, run)`. */
export interface Submission {
  run: number;
  attempt: number;
  /** The session it runs on; null while it opens one or when it runs without one. */
  sessionId: string | null;
  /** The statement it created, once ExecuteStatement answered. */
  statementId?: string;
}

export interface ExecutionRecord {
  pool_id: string;
  session_id: 'execution';
  execution_arn: string;
  tenant_id?: string;
  db_user?: string;
  /** The highest run that was stopped: its steps give back what they take. */
  stopped_run?: number;
  stopped_at?: string;
  /** A reservation AcquireSession made for the session SubmitQuery is to open. */
  reservation?: SlotReservation;
  reservation_run?: number;
  /**
   * The claim of the reservation a step of `opening_run` is opening a session on: from then on
   * that step gives the reservation back (with the session, or alone if the open fails), never the
   * clean-up, which cannot know whether the session exists yet.
   */
  opening_claim?: string;
  opening_run?: number;
  submit_run?: number;
  submit_attempt?: number;
  /** The session the submission runs on; `none` when it runs without one. */
  submit_session?: string;
  statement_id?: string;
  statement_run?: number;
  statement_attempt?: number;
  updated_at: string;
  expires_at: string;
  ttl: number;
}

const NO_SESSION = 'none';

const keyOf = (executionArn: string) => ({
  pool_id: internalPoolId('execution', executionArn),
  session_id: 'execution' as const,
});

/** The submission a record names, with its statement when that is the submission's own. */
export function submissionOf(record: ExecutionRecord | undefined): Submission | undefined {
  if (record?.submit_run === undefined || record.submit_attempt === undefined) return undefined;
  const own =
    record.statement_run === record.submit_run &&
    record.statement_attempt === record.submit_attempt;
  return {
    run: record.submit_run,
    attempt: record.submit_attempt,
    sessionId:
      record.submit_session === undefined || record.submit_session === NO_SESSION
        ? null
        : record.submit_session,
    statementId: own ? record.statement_id : undefined,
  };
}

/**
 * The reservation the clean-up of `run` gives back: the one a step of the run holds in the record,
 * unless a step of the run said it opens a session on it (that step gives it back itself).
 */
export function unusedReservationOf(
  record: ExecutionRecord | undefined,
  run: number,
): SlotReservation | undefined {
  const reservation = record?.reservation;
  if (reservation === undefined || (record?.reservation_run ?? 0) > run) return undefined;
  const opening = record?.opening_claim === reservation.claim && (record.opening_run ?? 0) <= run;
  return opening ? undefined : reservation;
}

const STEP_CONDITION = 'attribute_not_exists(stopped_run) OR stopped_run < :run';

export class ExecutionRecords {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Writes, for `run` of the execution, the reservation AcquireSession made. Returns the
   * reservation an earlier invocation of the same run wrote, if any (a retried AcquireSession);
   * false when the run was stopped: the caller gives the reservation back.
   */
  async holdReservation(
    executionArn: string,
    run: number,
    owner: { tenantId: string; dbUser: string },
    reservation: SlotReservation,
  ): Promise<{ previous: SlotReservation | undefined } | false> {
    const before = await this.stepWrite(executionArn, run, {
      'tenant_id = :tenant': owner.tenantId,
      'db_user = :dbUser': owner.dbUser,
      'reservation = :reservation': reservation,
      'reservation_run = :run': run,
    });
    if (before === false) return false;
    return { previous: before?.reservation_run === run ? before.reservation : undefined };
  }

  /**
   * Says that `run` of the execution still goes on, having just leased a session: false when it
   * was stopped, and the caller gives the lease back.
   */
  async confirmRun(executionArn: string, run: number): Promise<boolean> {
    return (await this.stepWrite(executionArn, run, {})) !== false;
  }

  /**
   * Says that `run` is about to open a session on the reservation whose claim is `claim` (see
   * {@link ExecutionRecord.opening_claim}): false when it was stopped, and the caller gives the
   * reservation back instead of opening. `untouched`: the record held the reservation as this
   * run's own (AcquireSession of the run wrote it), and no step of the run had begun opening on it
   * or submitting, so nothing can have given it back.
   */
  async beginOpening(
    executionArn: string,
    run: number,
    claim: string,
  ): Promise<{ untouched: boolean } | false> {
    const before = await this.stepWrite(executionArn, run, {
      'opening_claim = :claim': claim,
      'opening_run = :run': run,
    });
    if (before === false) return false;
    const untouched =
      before?.reservation?.claim === claim &&
      (before.reservation_run ?? 0) === run &&
      !(before.opening_claim === claim && (before.opening_run ?? 0) === run) &&
      before.submit_run !== run;
    return { untouched };
  }

  /**
   * Records the submission about to be sent, before ExecuteStatement: from now on the clean-up
   * finds it (and, by its ClientToken, its statement). `opensOn`: the claim of the reservation the
   * statement opens its session on (see {@link beginOpening}). Returns what the record said
   * before, so that a retried SubmitQuery finds the session its earlier attempt chose, and whether
   * the record held `opensOn` as this run's own reservation (AcquireSession of this run wrote it);
   * false when the run was stopped, and nothing must be sent.
   */
  async beginSubmission(
    executionArn: string,
    owner: { tenantId: string; dbUser: string },
    submission: Omit<Submission, 'statementId'>,
    opensOn?: string,
  ): Promise<{ previous: Submission | undefined; heldReservation: boolean } | false> {
    const before = await this.stepWrite(executionArn, submission.run, {
      'tenant_id = :tenant': owner.tenantId,
      'db_user = :dbUser': owner.dbUser,
      'submit_run = :run': submission.run,
      'submit_attempt = :attempt': submission.attempt,
      'submit_session = :session': submission.sessionId ?? NO_SESSION,
      ...(opensOn === undefined
        ? {}
        : { 'opening_claim = :claim': opensOn, 'opening_run = :run': submission.run }),
    });
    if (before === false) return false;
    const previous = submissionOf(before);
    const same =
      previous !== undefined &&
      previous.run === submission.run &&
      previous.attempt === submission.attempt;
    const heldReservation =
      opensOn !== undefined &&
      before?.reservation?.claim === opensOn &&
      (before.reservation_run ?? 0) === submission.run;
    return { previous: same ? previous : undefined, heldReservation };
  }

  /** Records the statement a submission created; false when the run was stopped meanwhile. */
  async recordStatement(
    executionArn: string,
    submission: Pick<Submission, 'run' | 'attempt'>,
    statementId: string,
  ): Promise<boolean> {
    return (
      (await this.stepWrite(executionArn, submission.run, {
        'statement_id = :statement': statementId,
        'statement_run = :run': submission.run,
        'statement_attempt = :attempt': submission.attempt,
      })) !== false
    );
  }

  /**
   * Marks `run` of the execution (and every earlier one) stopped, for its steps that are still
   * running, and returns what they had written. A mark of a later run is kept.
   */
  async markStopped(executionArn: string, run: number): Promise<ExecutionRecord> {
    const now = this.clock();
    const after = await this.conditionalWrite(
      executionArn,
      run,
      now,
      { 'stopped_run = :run': run, 'stopped_at = :now': now.toISOString() },
      { returns: 'ALL_NEW', operation: 'DynamoDB UpdateItem (stopped execution)' },
    );
    // A later run's mark is kept: what the steps wrote is read as it stands.
    if (after === false) return (await this.read(executionArn)) as ExecutionRecord;
    return after as ExecutionRecord;
  }

  /** The record as stored (strongly consistent); undefined when there is none. */
  async read(executionArn: string): Promise<ExecutionRecord | undefined> {
    try {
      const result = await this.ddb.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keyOf(executionArn),
          ConsistentRead: true,
        }),
      );
      return result?.Item as ExecutionRecord | undefined;
    } catch (error) {
      return rethrowTransient(error, 'DynamoDB GetItem (execution record)');
    }
  }

  private lifetime(now: Date) {
    const expiresAt = new Date(now.getTime() + EXECUTION_RECORD_SECONDS * 1000);
    return { ':expires': expiresAt.toISOString(), ':ttl': Math.ceil(expiresAt.getTime() / 1000) };
  }

  /**
   * One conditional write of a step: `assignments` maps `attribute = :name` to the value. Returns
   * the record as it was before, or false when the run was stopped.
   */
  private stepWrite(
    executionArn: string,
    run: number,
    assignments: Record<string, unknown>,
  ): Promise<ExecutionRecord | undefined | false> {
    return this.conditionalWrite(executionArn, run, this.clock(), assignments, {
      returns: 'ALL_OLD',
      operation: 'DynamoDB UpdateItem (execution record)',
    });
  }

  /**
   * Sets `assignments` (`attribute = :name` to the value) and the record's key and lifetime, on
   * condition that `run` is later than any stopped run. Returns the record as `returns` says
   * (before or after the write), or false when the condition failed.
   */
  private async conditionalWrite(
    executionArn: string,
    run: number,
    now: Date,
    assignments: Record<string, unknown>,
    { returns, operation }: { returns: 'ALL_OLD' | 'ALL_NEW'; operation: string },
  ): Promise<ExecutionRecord | undefined | false> {
    const values: Record<string, unknown> = {
      ':arn': executionArn,
      ':run': run,
      ':now': now.toISOString(),
      ...this.lifetime(now),
    };
    const sets = [
      'execution_arn = :arn',
      'updated_at = :now',
      'expires_at = :expires',
      '#ttl = :ttl',
    ];
    for (const [assignment, value] of Object.entries(assignments)) {
      sets.push(assignment);
      values[assignment.slice(assignment.indexOf(':'))] = value;
    }
    const answer = await conditionalWrite(
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keyOf(executionArn),
            ConditionExpression: STEP_CONDITION,
            UpdateExpression: `SET ${[...new Set(sets)].join(', ')}`,
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: values,
            ReturnValues: returns,
          }),
        ),
      operation,
    );
    return answer === undefined ? false : (answer.Attributes as ExecutionRecord | undefined);
  }
}
