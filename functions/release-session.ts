import middy from '@middy/core';
import { z } from 'zod';
import { defaultDeps, type StepDeps } from '#common/deps';
import { QueryAbortedError, QueryFailedError } from '#common/errors';
import { powertoolsMiddlewares, tagInvocation } from '#common/observability';
import {
  caughtErrorSchema,
  parseStepInput,
  querySchema,
  sessionRefSchema,
  statementSchema,
} from '#common/schemas';

/**
 * What the state machine passes. On a failure path the state may be partial: a failure in
 * AcquireSession leaves only the caught `{Error, Cause}`.
 */
const releaseEventSchema = z.object({
  outcome: z.enum(['SUCCEEDED', 'FAILED']),
  executionArn: z.string(),
  state: z.object({
    query: querySchema.optional(),
    session: sessionRefSchema.optional(),
    statement: statementSchema.optional(),
    error: caughtErrorSchema.optional(),
    Error: z.string().optional(),
    Cause: z.string().optional(),
  }),
});
export type ReleaseSessionEvent = z.input<typeof releaseEventSchema>;

/** What the execution's Fail state reports: the error's name, and a JSON Cause. */
export interface Failure {
  error: string;
  cause: string;
}

export interface ReleaseOutcome {
  released: boolean;
  failure?: Failure;
}

/**
 * Returns the execution's session to the pool: on success, after a SQL failure or abort, and
 * after any other failure. The keep-alive restarts at the statement's end. Releasing a session
 * that is no longer leased to this execution does nothing, so a retry is harmless.
 *
 * On a failure path it also writes the failure down for the Fail state: the error name, and a
 * Cause holding the message, the statement id and Redshift's own error text.
 */
export async function releaseSession(
  event: unknown,
  deps: StepDeps = defaultDeps,
): Promise<ReleaseOutcome> {
  const { outcome, executionArn, state } = parseStepInput(
    releaseEventSchema,
    event,
    'ReleaseSession',
  );
  const { query, session, statement } = state;
  if (query) {
    tagInvocation(deps.telemetry, {
      tenantId: query.tenantId,
      executionArn,
      statementId: statement?.statementId,
      sessionId: session?.sessionId,
    });
  }

  let released = false;
  if (query && session?.sessionId) {
    released = await deps.store.release(
      {
        tenantId: query.tenantId,
        dbUser: query.dbUser,
        sessionId: session.sessionId,
        createdAt: session.createdAt ?? deps.clock().toISOString(),
      },
      executionArn,
      statement?.finishedAt,
    );
    deps.telemetry.logger.info(
      released ? 'Released the session' : 'The session was not leased to this execution',
      {
        outcome,
      },
    );
  }
  if (outcome === 'SUCCEEDED') return { released };

  const failure = describeFailure(state, query?.tenantId);
  deps.telemetry.logger.warn('Execution is failing', {
    error: failure.error,
    cause: failure.cause,
  });
  return { released, failure };
}

/** The message inside a caught error's Cause: Lambda reports `{errorType, errorMessage, trace}`. */
function messageOf(cause: string | undefined): string {
  if (cause === undefined) return '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed)
      return String(parsed.errorMessage);
  } catch {
    // Not JSON: Step Functions' own errors (States.Timeout, ...) carry plain text.
  }
  return cause;
}

function describeFailure(
  state: z.infer<typeof releaseEventSchema>['state'],
  tenantId: string | undefined,
): Failure {
  const { statement } = state;
  const caught =
    state.error ?? (state.Error ? { Error: state.Error, Cause: state.Cause } : undefined);
  const context = { tenantId, statementId: statement?.statementId };
  if (caught) {
    return {
      error: caught.Error,
      cause: JSON.stringify({ message: messageOf(caught.Cause), ...context }),
    };
  }
  const redshiftError = statement?.error;
  const error =
    statement?.status === 'ABORTED'
      ? new QueryAbortedError('The statement was cancelled before it finished')
      : new QueryFailedError(
          redshiftError ? `The statement failed: ${redshiftError}` : 'The statement failed',
        );
  return {
    error: error.name,
    cause: JSON.stringify({ message: error.message, ...context, redshiftError }),
  };
}

export const handler = middy<unknown, ReleaseOutcome>()
  .use(powertoolsMiddlewares)
  .handler((event) => releaseSession(event));
