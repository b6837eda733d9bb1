import middy from '@middy/core';
import { defaultDeps, type StepDeps } from '#common/deps';
import { powertoolsMiddlewares, tagInvocation } from '#common/observability';
import {
  jsonBytes,
  type ResultColumn,
  type ResultValue,
  toResultColumns,
  toResultValue,
} from '#common/results';
import { parseStepInput, queryStateSchema } from '#common/schemas';

/** The output of a succeeded execution. */
export interface QueryResult {
  tenantId: string;
  statementId: string;
  sessionId: string | null;
  sessionReused: boolean;
  columns: ResultColumn[];
  rows: ResultValue[][];
  /** Rows in `rows`. */
  rowCount: number;
  /** Rows the statement returned (rows affected, for a statement without a result set). */
  totalRows: number;
  /** true when `rows` stops short of `totalRows` to keep the output inside the byte budget. */
  truncated: boolean;
}

/** Room for `rowCount`, `totalRows` and `truncated` to change length after the envelope is measured. */
const ENVELOPE_SLACK_BYTES = 64;

/**
 * Reads the statement's result page by page (`NextToken`) until the rows run out or the next row
 * would take the output past `SPECTRA_RESULT_INLINE_MAX_BYTES` (at most 250,000 bytes, under the
 * 256 KiB Step Functions limit, whatever the query returns). Pages after the budget is spent are
 * not read.
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
    columns: [],
    rows: [],
    rowCount: 0,
    totalRows: 0,
    truncated: false,
  };

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

  const budget = deps.config.resultInlineMaxBytes;
  let used = 0;
  let nextToken: string | undefined;
  let firstPage = true;
  do {
    const page = await deps.dataApi.resultPage(statement.statementId, nextToken);
    if (firstPage) {
      result.columns = toResultColumns(page.columns);
      result.totalRows = page.totalRows ?? 0;
      used = jsonBytes(result) + ENVELOPE_SLACK_BYTES;
      firstPage = false;
    }
    for (const record of page.records) {
      const row = record.map((field, i) => toResultValue(field, result.columns[i]));
      const rowBytes = jsonBytes(row) + 1; // and the comma before it
      if (used + rowBytes > budget) {
        result.truncated = true;
        break;
      }
      result.rows.push(row);
      used += rowBytes;
    }
    nextToken = result.truncated ? undefined : page.nextToken;
  } while (nextToken !== undefined);

  result.rowCount = result.rows.length;
  result.totalRows = Math.max(result.totalRows, result.rowCount);
  deps.telemetry.logger.info('Fetched results', {
    rowCount: result.rowCount,
    totalRows: result.totalRows,
    truncated: result.truncated,
    bytes: used,
  });
  return result;
}

export const handler = middy<unknown, QueryResult>()
  .use(powertoolsMiddlewares)
  .handler((event) => fetchResults(event));
