import middy from '@middy/core';
import { defaultDeps, type StepDeps } from '#common/deps';
import { powertoolsMiddlewares, tagInvocation } from '#common/observability';
import {
  emptyResultSet,
  jsonBytes,
  type ResultSet,
  toResultColumns,
  toResultValue,
} from '#common/results';
import { parseStepInput, queryStateSchema, type StatementStatus } from '#common/schemas';

/** One statement of a batch, in the output of a succeeded execution. */
export interface BatchStatementResult {
  /** Its position in `statements`, from 0. */
  index: number;
  /** The sub-statement's id, `<batch id>:<index + 1>`. */
  statementId: string;
  status: StatementStatus;
  hasResultSet: boolean;
  /** Rows inserted, updated or deleted, for a statement without a result set. */
  rowsAffected?: number;
  /** The rows it returned, for a statement with a result set. */
  result?: ResultSet;
}

/**
 * The output of a succeeded execution. Its result set is the statement's; for a batch, that of
 * its last statement that returns rows, and `statements` has each statement.
 */
export interface QueryResult extends ResultSet {
  tenantId: string;
  statementId: string;
  sessionId: string | null;
  sessionReused: boolean;
  /** A batch's statements, in order. */
  statements?: BatchStatementResult[];
}

/** Room for `rowCount`, `totalRows` and `truncated` to change length after the envelope is measured. */
const ENVELOPE_SLACK_BYTES = 64;

/**
 * Reads a statement's result page by page (`NextToken`) until the rows run out or the next row
 * would take it past `budget` bytes; pages after that are not read. `copies`: how many times the
 * rows appear in the output (the last result set of a batch appears at the top level too).
 */
async function readResultSet(
  deps: StepDeps,
  statementId: string,
  budget: number,
  copies: number,
): Promise<{ set: ResultSet; bytes: number }> {
  const set = emptyResultSet();
  let used = 0;
  let nextToken: string | undefined;
  let firstPage = true;
  do {
    const page = await deps.dataApi.resultPage(statementId, nextToken);
    if (firstPage) {
      set.columns = toResultColumns(page.columns);
      set.totalRows = page.totalRows ?? 0;
      used = (jsonBytes(set) + ENVELOPE_SLACK_BYTES) * copies;
      firstPage = false;
    }
    for (const record of page.records) {
      const row = record.map((field, i) => toResultValue(field, set.columns[i]));
      const rowBytes = (jsonBytes(row) + 1) * copies; // and the comma before it
      if (used + rowBytes > budget) {
        set.truncated = true;
        break;
      }
      set.rows.push(row);
      used += rowBytes;
    }
    nextToken = set.truncated ? undefined : page.nextToken;
  } while (nextToken !== undefined);
  set.rowCount = set.rows.length;
  set.totalRows = Math.max(set.totalRows, set.rowCount);
  return { set, bytes: used };
}

/**
 * Reads a batch's statements (DescribeStatement's SubStatements) and the result of each that
 * returns rows, all within the one budget: the last such result first, since it is also the
 * output's top-level result (and counts twice), then the others in order.
 */
async function fetchBatchResults(
  deps: StepDeps,
  result: QueryResult,
  budget: number,
): Promise<QueryResult> {
  const described = await deps.dataApi.describe(result.statementId, 0);
  const statements: BatchStatementResult[] = (described.SubStatements ?? []).map((sub, index) => {
    const hasResultSet = sub.HasResultSet === true;
    const entry: BatchStatementResult = {
      index,
      statementId: sub.Id ?? `${result.statementId}:${index + 1}`,
      status: (sub.Status ?? 'FINISHED') as StatementStatus,
      hasResultSet,
    };
    if (!hasResultSet) entry.rowsAffected = Math.max(sub.ResultRows ?? 0, 0);
    return entry;
  });
  result.statements = statements;
  const withRows = statements.filter((entry) => entry.hasResultSet);
  const last = withRows.at(-1);
  let remaining = budget - jsonBytes(result) - ENVELOPE_SLACK_BYTES;
  for (const entry of last ? [last, ...withRows.slice(0, -1)] : []) {
    const { set, bytes } = await readResultSet(
      deps,
      entry.statementId,
      remaining,
      entry === last ? 2 : 1,
    );
    entry.result = set;
    remaining -= bytes;
  }
  if (last?.result) Object.assign(result, last.result);
  deps.telemetry.logger.info('Fetched batch results', {
    statements: statements.length,
    resultSets: withRows.length,
    bytes: budget - remaining,
  });
  return result;
}

/**
 * Reads the statement's result page by page (`NextToken`) until the rows run out or the next row
 * would take the output past `SPECTRA_RESULT_INLINE_MAX_BYTES` (at most 250,000 bytes, under the
 * 256 KiB Step Functions limit, whatever the query returns). Pages after the budget is spent are
 * not read. For a batch, every statement's outcome and the result of each that returns rows share
 * that one budget.
 *
 * @returns the execution's output.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function fetchResults(
  event: unknown,
  deps: StepDeps = defaultDeps,
): Promise<QueryResult> {
  const state = parseStepInput(queryStateSchema, event, 'FetchResults');
  const { statement, query, session } = state;
  if (statement === undefined)
    throw new Error('FetchResults needs $.statement, set by SubmitQuery');
  tagInvocation(deps.telemetry, {
    tenantId: query.tenantId,
    executionArn: state.executionArn,
    statementId: statement.statementId,
  });
  const result: QueryResult = {
    tenantId: query.tenantId,
    statementId: statement.statementId,
    sessionId: session.sessionId,
    sessionReused: session.reused,
    ...emptyResultSet(),
  };
  const budget = deps.config.resultInlineMaxBytes;
  if (query.statements !== undefined) return fetchBatchResults(deps, result, budget);

  if (statement.hasResultSet !== true) {
    // A statement without a result set (INSERT, CREATE, ...) reports the rows it affected.
    const known = statement.hasResultSet === false ? statement.resultRows : undefined;
    const described =
      known === undefined ? await deps.dataApi.describe(statement.statementId, 0) : undefined;
    if (described === undefined || described.HasResultSet !== true) {
      const affected = known ?? described?.ResultRows ?? 0;
      result.totalRows = Math.max(affected, 0);
      return result;
    }
  }

  const envelope = jsonBytes({ ...result, columns: undefined, rows: undefined });
  const { set, bytes } = await readResultSet(deps, statement.statementId, budget - envelope, 1);
  Object.assign(result, set);
  deps.telemetry.logger.info('Fetched results', {
    rowCount: result.rowCount,
    totalRows: result.totalRows,
    truncated: result.truncated,
    bytes: envelope + bytes,
  });
  return result;
}

export const handler = middy<unknown, QueryResult>()
  .use(powertoolsMiddlewares)
  .handler((event) => fetchResults(event));
