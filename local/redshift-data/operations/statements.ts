import { stringify } from 'lossless-json';
import { AwsServiceError, JsonText } from '../../aws-json.ts';
import {
  type ConnectionTarget,
  type Part,
  type ResultFormat,
  SESSION_MAX_LIFETIME_MS,
  type Session,
  type SessionStatus,
  type Statement,
  type StoredResult,
  stopStatement,
  TERMINAL,
} from '../model.ts';
import { DEFAULT_PAGE_SIZE, decodeToken, encodeToken, page } from '../paging.ts';
import {
  cancelStatementRequest,
  describeStatementRequest,
  getStatementResultRequest,
  listSessionsRequest,
  listStatementsRequest,
  parseRequest,
  validationError,
} from '../requests.ts';
import { compact, csvLine, fieldOf, seconds } from '../result-format.ts';
import { waitForEnd } from '../statement-runner.ts';
import type { OperationContext, Operations } from './context.ts';

/**
 * The operations that read what was submitted: DescribeStatement, GetStatementResult(V2),
 * CancelStatement, ListStatements and ListSessions.
 */

function queryNotFound(id: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', 'Query does not exist.', 404, {
    ResourceId: id,
  });
}

const durationNs = (startedAt?: number, endedAt?: number) =>
  startedAt !== undefined && endedAt !== undefined ? (endedAt - startedAt) * 1_000_000 : -1;

function describePart(part: Part) {
  return compact({
    Id: part.id,
    Duration: durationNs(part.startedAt, part.endedAt),
    Error: part.error,
    Status: part.status,
    CreatedAt: seconds(part.createdAt),
    UpdatedAt: seconds(part.updatedAt),
    QueryString: part.sql,
    ResultRows: part.status === 'FINISHED' ? part.resultRows : -1,
    ResultSize: part.status === 'FINISHED' ? part.resultSize : -1,
    RedshiftQueryId: part.queryId,
    RedshiftQueryUuid: part.queryUuid,
    HasResultSet: part.hasResultSet,
  });
}

/** Sums what the parts report; -1 when none reports anything. */
function total(values: number[]): number {
  const known = values.filter((value) => value >= 0);
  return known.length === 0 ? -1 : known.reduce((sum, value) => sum + value, 0);
}

function describe(statement: Statement, part: Part | undefined) {
  const { target } = statement;
  const common = {
    SecretArn: target.secretArn,
    DbUser: target.dbUser,
    Database: target.database,
    ClusterIdentifier: target.clusterIdentifier,
    WorkgroupName: target.workgroupName,
    RedshiftPid: statement.redshiftPid,
    QueryParameters: statement.parameters,
    ResultFormat: statement.resultFormat,
    SessionId: statement.sessionId,
  };
  if (part) return compact({ ...common, ...describePart(part) });
  const single = statement.isBatch ? undefined : statement.parts[0];
  const finished = statement.status === 'FINISHED';
  return compact({
    ...common,
    Id: statement.id,
    Duration: durationNs(statement.startedAt, statement.endedAt),
    Error: statement.error,
    Status: statement.status,
    CreatedAt: seconds(statement.createdAt),
    UpdatedAt: seconds(statement.updatedAt),
    HasResultSet: statement.parts.some((each) => each.hasResultSet),
    QueryString: single?.sql,
    ResultRows: finished ? total(statement.parts.map((each) => each.resultRows)) : -1,
    ResultSize: finished ? total(statement.parts.map((each) => each.resultSize)) : -1,
    RedshiftQueryId: single ? single.queryId : 0,
    RedshiftQueryUuid: single?.queryUuid,
    SubStatements: statement.isBatch ? statement.parts.map(describePart) : undefined,
    ExecutionMode: statement.executionMode,
  });
}

/** The part whose result a GetStatementResult(V2) call reads, or the refusal. */
function resultPart(statement: Statement, part: Part | undefined, format: ResultFormat): Part {
  if (statement.resultFormat !== format) {
    throw validationError(
      format === 'JSON'
        ? 'The statement was run with ResultFormat CSV; read its result with GetStatementResultV2.'
        : 'The statement was run with ResultFormat JSON; read its result with GetStatementResult.',
    );
  }
  const target = part ?? (statement.isBatch ? undefined : statement.parts[0]);
  if (!target) {
    throw validationError(
      `Statement ${statement.id} is a batch: read the result of each SQL statement by its sub-statement Id, ${statement.id}:1 to ${statement.id}:${statement.parts.length}.`,
    );
  }
  if (target.status !== 'FINISHED')
    throw validationError(
      `Query does not have result. The statement is ${target.status}; a result exists once it is FINISHED. Please check query status with DescribeStatement.`,
    );
  if (!target.result)
    throw validationError(
      'Query does not have result. Please check query status with DescribeStatement.',
    );
  return target;
}

function resultPage(part: Part, nextToken: string | undefined, pageRows: number) {
  const result = part.result as StoredResult;
  const offset = decodeToken(`result:${part.id}`, nextToken);
  const end = offset + pageRows;
  return {
    offset,
    rows: result.rows.slice(offset, end),
    columns: result.columns,
    metadata: result.metadata,
    total: result.rows.length,
    NextToken: end < result.rows.length ? encodeToken(`result:${part.id}`, end) : undefined,
  };
}

const jsonText = (body: Record<string, unknown>) => new JsonText(stringify(compact(body)) ?? '{}');

function statementData(statement: Statement) {
  return compact({
    Id: statement.id,
    QueryString: statement.isBatch ? undefined : statement.parts[0]?.sql,
    QueryStrings: statement.isBatch ? statement.parts.map((part) => part.sql) : undefined,
    SecretArn: statement.target.secretArn,
    Status: statement.status,
    StatementName: statement.statementName,
    CreatedAt: seconds(statement.createdAt),
    UpdatedAt: seconds(statement.updatedAt),
    QueryParameters: statement.parameters,
    IsBatchStatement: statement.isBatch,
    ResultFormat: statement.resultFormat,
    SessionId: statement.sessionId,
  });
}

/** The filters ListStatements and ListSessions share: each one unset matches everything. */
interface TargetFilter {
  Database?: string;
  ClusterIdentifier?: string;
  WorkgroupName?: string;
}

const matchesTarget = (target: ConnectionTarget, filter: TargetFilter) =>
  (filter.Database === undefined || target.database === filter.Database) &&
  (filter.ClusterIdentifier === undefined ||
    target.clusterIdentifier === filter.ClusterIdentifier) &&
  (filter.WorkgroupName === undefined || target.workgroupName === filter.WorkgroupName);

export function statementOperations(context: OperationContext): Operations {
  const { store, resultPageRows } = context;

  /** The statement an Id names, and the part when it is a sub-statement id (`<id>:<n>`). */
  function lookUp(id: string): { statement: Statement; part?: Part } {
    const [baseId = '', partNumber] = id.split(':');
    const statement = store.statements.get(baseId);
    if (!statement) throw queryNotFound(id);
    if (partNumber === undefined) return { statement };
    const part = statement.isBatch ? statement.parts[Number(partNumber) - 1] : undefined;
    if (!part) throw queryNotFound(id);
    return { statement, part };
  }

  /** The result page a GetStatementResult(V2) request asks for, once the statement has ended. */
  async function readResult(input: Record<string, unknown>, format: ResultFormat) {
    const request = parseRequest(getStatementResultRequest, input);
    const { statement, part } = lookUp(request.Id);
    await waitForEnd(store, statement, request.WaitTimeSeconds);
    return resultPage(resultPart(statement, part, format), request.NextToken, resultPageRows);
  }

  function sessionData(session: Session, now: number) {
    return compact({
      SessionId: session.id,
      Status: session.status,
      CreatedAt: seconds(session.createdAt),
      UpdatedAt: seconds(session.updatedAt),
      Database: session.target.database,
      DbUser: session.target.dbUser,
      ClusterIdentifier: session.target.clusterIdentifier,
      WorkgroupName: session.target.workgroupName,
      SessionAliveSeconds: session.keepAliveSeconds,
      SessionTtl: seconds(
        session.status === 'CLOSED'
          ? (session.closedAt ?? now)
          : store.sessionExpiresAt(session, now),
      ),
      CurrentStatementId: session.status === 'BUSY' ? session.currentStatementId : undefined,
    });
  }

  return {
    async DescribeStatement(input) {
      const request = parseRequest(describeStatementRequest, input);
      const { statement, part } = lookUp(request.Id);
      await waitForEnd(store, statement, request.WaitTimeSeconds);
      return describe(statement, part);
    },

    async GetStatementResult(input) {
      const result = await readResult(input, 'JSON');
      // lossless-json writes each longValue's digits as they are (JSON.stringify cannot).
      return jsonText({
        Records: result.rows.map((row) =>
          row.map((value, index) => fieldOf(value, result.columns[index]?.typeOid ?? 25)),
        ),
        ColumnMetadata: result.metadata,
        TotalNumRows: result.total,
        NextToken: result.NextToken,
      });
    },

    async GetStatementResultV2(input) {
      const result = await readResult(input, 'CSV');
      const lines = result.rows.map(csvLine);
      if (result.offset === 0) lines.unshift(csvLine(result.metadata.map((column) => column.name)));
      return compact({
        Records: lines.length > 0 ? [{ CSVRecords: `${lines.join('\n')}\n` }] : [],
        ColumnMetadata: result.metadata,
        TotalNumRows: result.total,
        ResultFormat: 'CSV',
        NextToken: result.NextToken,
      });
    },

    async CancelStatement(input) {
      const request = parseRequest(cancelStatementRequest, input);
      const { statement } = lookUp(request.Id);
      if (TERMINAL.has(statement.status))
        throw validationError(
          `Could not cancel a query that is already in ${statement.status} state with ID: ${request.Id}`,
        );
      // Its COMMIT is under way: it has committed as far as a cancel can tell, and ends FINISHED
      // (a server's cancel reaching the COMMIT could only tear it).
      if (statement.committing)
        throw validationError(
          `Could not cancel a query that is already committing with ID: ${request.Id}`,
        );
      const running = statement.running;
      // ABORTED now unless the engine can no longer undo it (it runs a transaction's end itself):
      // then it ends as it really ends, and the cancel did not take.
      const stopped = stopStatement(statement, 'ABORTED', store.clock());
      // PostgreSQL stops the statement early; PGlite runs it to its end and rolls it back.
      if (running) await running.cancel().catch(() => false);
      return { Status: stopped };
    },

    async ListStatements(input) {
      const request = parseRequest(listStatementsRequest, input);
      const status = request.Status ?? 'FINISHED';
      const matching = [...store.statements.values()]
        .filter(
          (statement) =>
            (status === 'ALL' || statement.status === status) &&
            (request.StatementName === undefined ||
              (statement.statementName ?? '').startsWith(request.StatementName)) &&
            matchesTarget(statement.target, request),
        )
        .reverse();
      const listed = page(matching, 'statements', request, DEFAULT_PAGE_SIZE.statements);
      return compact({ Statements: listed.items.map(statementData), NextToken: listed.NextToken });
    },

    async ListSessions(input) {
      const request = parseRequest(listSessionsRequest, input);
      const now = store.clock();
      if (request.SessionId !== undefined) {
        const conflicting = (
          ['Status', 'ClusterIdentifier', 'WorkgroupName', 'Database'] as const
        ).filter((member) => request[member] !== undefined);
        if (conflicting.length > 0)
          throw validationError(
            `SessionId cannot be combined with ${conflicting.join(', ')} in ListSessions.`,
          );
        const session = store.sessions.get(request.SessionId);
        if (!session)
          throw new AwsServiceError(
            'ResourceNotFoundException',
            `Session with Id: ${request.SessionId} does not exist.`,
            404,
            { ResourceId: request.SessionId },
          );
        return { Sessions: [sessionData(session, now)] };
      }
      const statuses: SessionStatus[] = request.Status ? [request.Status] : ['AVAILABLE', 'BUSY'];
      const matching = [...store.sessions.values()]
        .filter(
          (session) =>
            statuses.includes(session.status) &&
            now - session.createdAt <= SESSION_MAX_LIFETIME_MS &&
            matchesTarget(session.target, request),
        )
        .reverse();
      const listed = page(matching, 'sessions', request, DEFAULT_PAGE_SIZE.others);
      return compact({
        Sessions: listed.items.map((session) => sessionData(session, now)),
        NextToken: listed.NextToken,
      });
    },
  };
}
