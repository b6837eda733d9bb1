import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import type { SqlParameter } from '#common/execution-input';
import type { QueryResult } from '#common/execution-output';
import type { QueryFailureCause } from './errors.ts';
import type { ReadableResult } from './result-rows.ts';
import type { PooledSession, Query, QueryFailure } from './types.ts';

/**
 * How the client reads what Step Functions and the sessions table hold: an execution as a
 * {@link Query}, a pool item as a {@link PooledSession}, and the names and JSON they carry.
 */

/** The ARN of an execution of `stateMachineArn` named `name`, as Step Functions forms it. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** JSON with object keys sorted, so two inputs compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : inner,
  );
}

export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseCause(text: string | undefined): QueryFailureCause | undefined {
  if (text === undefined || text === '') return undefined;
  const parsed = parseJsonObject(text);
  if (parsed === undefined) return { message: text };
  // A Lambda error that escaped the workflow's own handling reports `errorMessage`.
  if (typeof parsed.message !== 'string' && typeof parsed.errorMessage === 'string') {
    return { ...parsed, message: parsed.errorMessage };
  }
  return parsed;
}

/**
 * The query as the execution `executionArn` describes it; `readable` makes its result's rows
 * readable wherever they are (see client/result-rows.ts).
 */
export function queryOf(
  executionArn: string,
  execution: DescribeExecutionCommandOutput,
  readable: (result: QueryResult) => ReadableResult,
): Query {
  const input = parseJsonObject(execution.input) ?? {};
  const startedAt = execution.startDate ?? new Date(0);
  const query: Query = {
    executionArn,
    name: execution.name ?? '',
    status: execution.status ?? 'RUNNING',
    startedAt,
    tenantId: typeof input.tenantId === 'string' ? input.tenantId : '',
    sql:
      typeof input.sql === 'string'
        ? input.sql
        : Array.isArray(input.statements)
          ? input.statements.join(';\n')
          : '',
    redriveCount: execution.redriveCount ?? 0,
  };
  if (execution.redriveDate) query.redrivenAt = execution.redriveDate;
  if (Array.isArray(input.parameters)) query.parameters = input.parameters as SqlParameter[];
  if (Array.isArray(input.statements)) query.statements = input.statements as string[];
  if (typeof input.statementName === 'string') query.statementName = input.statementName;
  if (execution.stopDate) {
    query.stoppedAt = execution.stopDate;
    query.durationMs = execution.stopDate.getTime() - startedAt.getTime();
  }
  if (execution.error !== undefined) query.error = execution.error;
  const cause = parseCause(execution.cause);
  if (cause !== undefined) query.cause = cause;
  if (execution.status === 'SUCCEEDED' && execution.output !== undefined) {
    query.result = readable(JSON.parse(execution.output) as QueryResult);
  }
  return query;
}

/**
 * What the cause says happened, with Redshift's own text after it: the cause holds that text once,
 * as `redshiftError`, and a message written before it did may already end with it.
 */
function causeMessageOf(cause: Query['cause'], fallback: string): string {
  const message = cause?.message ?? fallback;
  const redshiftError = cause?.redshiftError;
  return redshiftError && !message.includes(redshiftError)
    ? `${message}: ${redshiftError}`
    : message;
}

/**
 * The error name and message of a query that did not succeed, for reports like
 * `QueryFailedError: The statement failed: ERROR: relation "nope" does not exist`.
 * Undefined for a query that succeeded or is still running.
 */
export function failureOf(query: Query): QueryFailure | undefined {
  switch (query.status) {
    case 'FAILED':
      return {
        errorName: query.error ?? 'QueryFailedError',
        message: causeMessageOf(query.cause, 'The query failed'),
      };
    case 'ABORTED':
      return {
        errorName: 'QueryAbortedError',
        message: `The query was cancelled${query.cause?.message ? `: ${query.cause.message}` : ''}`,
      };
    case 'TIMED_OUT':
      return {
        errorName: query.error ?? 'States.Timeout',
        message: 'The execution ran past the state machine timeout',
      };
    default:
      return undefined;
  }
}

function dateOf(value: unknown): Date {
  return new Date(typeof value === 'string' || typeof value === 'number' ? value : 0);
}

export function toPooledSession(item: Record<string, unknown>): PooledSession {
  const session: PooledSession = {
    id: String(item.session_id),
    tenantId: String(item.tenant_id ?? ''),
    dbUser: String(item.db_user ?? ''),
    state: item.state === 'LEASED' ? 'LEASED' : 'IDLE',
    createdAt: dateOf(item.created_at),
    lastUsedAt: dateOf(item.last_used_at),
    expiresAt: dateOf(item.expires_at),
  };
  if (typeof item.lease_owner === 'string') session.leaseOwner = item.lease_owner;
  if (typeof item.lease_expires_at === 'string') {
    session.leaseExpiresAt = dateOf(item.lease_expires_at);
  }
  return session;
}
