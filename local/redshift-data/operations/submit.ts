import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../../aws-json.ts';
import { resolveTarget } from '../connection-target.ts';
import {
  CLIENT_TOKEN_LIFETIME_MS,
  type ConnectionTarget,
  type Session,
  type Statement,
  TERMINAL,
} from '../model.ts';
import {
  type BatchExecuteStatementRequest,
  batchExecuteStatementRequest,
  type ExecuteStatementRequest,
  executeStatementRequest,
  parseRequest,
  validationError,
} from '../requests.ts';
import { compact, seconds } from '../result-format.ts';
import { type BoundSql, bindSql, PlaceholderError, type SqlParameter } from '../sql-text.ts';
import { execute, waitForEnd } from '../statement-runner.ts';
import type { OperationContext, Operations } from './context.ts';

/**
 * ExecuteStatement and BatchExecuteStatement: checks, ClientToken idempotency, the session a
 * statement runs on (a new one, a reused one, or none), and the statement handed to the runner.
 */

const SQL_MAX_BYTES = 100 * 1024;

/** A statement refused before it was created; the message is the caller's to read. */
const sessionNotAvailable = () => validationError('Session is not available');

function checkSqlSize(sql: string, member: string): void {
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > SQL_MAX_BYTES)
    throw validationError(
      `${member} is ${bytes} bytes; a SQL statement can be at most ${SQL_MAX_BYTES} bytes (100 KB).`,
    );
}

/** Binds the placeholders of every SQL text; each parameter must be used by one of them. */
function bindAll(sqls: string[], parameters: SqlParameter[] | undefined): BoundSql[] {
  const names = new Set<string>();
  for (const parameter of parameters ?? []) {
    if (names.has(parameter.name))
      throw validationError(`Parameter ${parameter.name} is given more than once.`);
    names.add(parameter.name);
  }
  let bound: BoundSql[];
  try {
    bound = sqls.map((sql) => bindSql(sql, parameters));
  } catch (error) {
    if (error instanceof PlaceholderError) throw validationError(error.message);
    throw error;
  }
  const used = new Set(bound.flatMap((each) => [...each.used]));
  for (const name of names) {
    if (!used.has(name))
      throw validationError(
        sqls.length === 1
          ? `Parameter ${name} is not used in the SQL statement; remove it or refer to it as :${name}.`
          : `Parameter ${name} is not used in any of the SQL statements; remove it or refer to it as :${name}.`,
      );
  }
  return bound;
}

function submissionResponse(statement: Statement) {
  const { target } = statement;
  const ended = TERMINAL.has(statement.status);
  return compact({
    Id: statement.id,
    CreatedAt: seconds(statement.createdAt),
    ClusterIdentifier: target.clusterIdentifier,
    WorkgroupName: target.workgroupName,
    DbUser: target.dbUser,
    Database: target.database,
    SecretArn: target.secretArn,
    SessionId: statement.sessionId,
    Status: statement.status,
    RedshiftPid: statement.redshiftPid > 0 ? statement.redshiftPid : undefined,
    HasResultSet: ended ? statement.parts.some((part) => part.hasResultSet) : undefined,
  });
}

/** The connection fields a statement on a session must not repeat. */
function checkSessionRequest(request: ExecuteStatementRequest | BatchExecuteStatementRequest) {
  const conflicting = (
    ['ClusterIdentifier', 'WorkgroupName', 'Database', 'DbUser', 'SecretArn'] as const
  ).filter((member) => request[member] !== undefined);
  if (conflicting.length > 0)
    throw validationError(
      `SessionId cannot be combined with ${conflicting.join(', ')}: a session keeps the cluster or workgroup, database and user it was opened with. Send only Sql and SessionId (plus statement options).`,
    );
}

/**
 * The session a statement runs on: the one it names (refused when closed or busy), a new one when
 * it asks for a keep-alive, or none.
 */
function sessionFor(
  { store, maxSessions }: OperationContext,
  request: ExecuteStatementRequest | BatchExecuteStatementRequest,
  target: ConnectionTarget | undefined,
  now: number,
): Session | undefined {
  const keepAlive = request.SessionKeepAliveSeconds;
  if (request.SessionId) {
    const session = store.sessions.get(request.SessionId);
    if (!session) throw validationError(`Session with Id: ${request.SessionId} is invalid`);
    if (session.status === 'CLOSED') throw sessionNotAvailable();
    if (session.status === 'BUSY') {
      store.counters.busyRejections++;
      throw sessionNotAvailable();
    }
    if (keepAlive !== undefined && keepAlive > 0) session.keepAliveSeconds = keepAlive;
    return session;
  }
  if (keepAlive === undefined || keepAlive <= 0) return undefined;
  if (store.openSessions().length >= maxSessions) {
    store.counters.sessionLimitRejections++;
    throw new AwsServiceError(
      'ActiveSessionsExceededException',
      `The number of active sessions has reached the limit of ${maxSessions}. Reuse a session or let one expire.`,
      400,
    );
  }
  const session: Session = {
    id: randomUUID(),
    target: target as ConnectionTarget,
    createdAt: now,
    updatedAt: now,
    keepAliveSeconds: keepAlive,
    idleSince: now,
    status: 'AVAILABLE',
  };
  store.sessions.set(session.id, session);
  store.counters.sessionsOpened++;
  return session;
}

/**
 * ExecuteStatement and BatchExecuteStatement. Everything from the token check to the statement's
 * creation is synchronous, so two calls with one ClientToken cannot both create a statement.
 */
async function submit(
  context: OperationContext,
  request: ExecuteStatementRequest | BatchExecuteStatementRequest,
  sqls: string[],
  isBatch: boolean,
) {
  const { store } = context;
  sqls.forEach((sql, index) => {
    checkSqlSize(sql, isBatch ? `Sqls[${index + 1}]` : 'Sql');
  });
  let target: ConnectionTarget | undefined;
  if (request.SessionId) checkSessionRequest(request);
  else target = resolveTarget(request);
  const bound = bindAll(sqls, request.Parameters);
  store.sweep();

  if (request.ClientToken) {
    const known = store.clientTokens.get(request.ClientToken);
    const earlier = known ? store.statements.get(known.statementId) : undefined;
    if (earlier) {
      await waitForEnd(store, earlier, request.WaitTimeSeconds);
      return submissionResponse(earlier);
    }
  }

  const now = store.clock();
  const session = sessionFor(context, request, target, now);
  target = session?.target ?? target;
  if (!target) throw new Error('unreachable: a statement without a connection target');

  const id = randomUUID();
  const statement: Statement = {
    id,
    isBatch,
    parts: sqls.map((sql, index) => ({
      id: isBatch ? `${id}:${index + 1}` : id,
      sql,
      bound: bound[index] as BoundSql,
      status: 'SUBMITTED',
      createdAt: now,
      updatedAt: now,
      queryId: 0,
      hasResultSet: false,
      resultRows: -1,
      resultSize: -1,
    })),
    status: 'SUBMITTED',
    createdAt: now,
    updatedAt: now,
    target,
    sessionId: session?.id,
    statementName: request.StatementName,
    parameters: request.Parameters,
    resultFormat: request.ResultFormat ?? 'JSON',
    executionMode: isBatch
      ? ((request as BatchExecuteStatementRequest).ExecutionMode ?? 'TRANSACTION')
      : undefined,
    redshiftPid: 0,
    waiters: new Set(),
  };
  store.statements.set(id, statement);
  store.counters.statementsSubmitted++;
  if (request.ClientToken)
    store.clientTokens.set(request.ClientToken, {
      statementId: id,
      expiresAt: now + CLIENT_TOKEN_LIFETIME_MS,
    });
  if (session) {
    Object.assign(session, { status: 'BUSY', currentStatementId: id, updatedAt: now });
  }
  context.controls.admit(statement);
  void execute(context, statement, session);

  await waitForEnd(store, statement, request.WaitTimeSeconds);
  return submissionResponse(statement);
}

export function submitOperations(context: OperationContext): Operations {
  return {
    async ExecuteStatement(input) {
      const request = parseRequest(executeStatementRequest, input);
      return submit(context, request, [request.Sql], false);
    },

    async BatchExecuteStatement(input) {
      const request = parseRequest(batchExecuteStatementRequest, input);
      return submit(context, request, request.Sqls, true);
    },
  };
}
