import middy from '@middy/core';
import type { ResultPage } from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { rethrowTransient } from '#common/errors';
import { handlerMiddlewares } from '#common/middlewares';
import { tagInvocation } from '#common/observability';
import { ResultSpill } from '#common/result-spill';
import { resultExpiresAt, resultKeyPrefix, type WrittenResult } from '#common/result-store';
import {
  emptyResultSet,
  jsonBytes,
  type ResultSet,
  toResultColumns,
  toResultValue,
} from '#common/results';
import {
  parseStepInput,
  type Query,
  queryStateSchema,
  type StatementStatus,
} from '#common/schemas';

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
  /** Set when the result was larger than the inline budget: where all its rows are. */
  result?: WrittenResult;
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
      const row = record.map(toResultValue);
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
 * Room for `result` (the location and counts of a written result) in the output: its URI holds
 * the state machine's and the execution's names (80 characters each at most) and the statement id.
 */
const WRITTEN_RESULT_BYTES = 1024;

/** Where the caller's limits stop the result: `undefined` for no limit. */
interface Limits {
  rows: number | undefined;
  bytes: number | undefined;
}

/**
 * Reads the statement's result page by page (`NextToken`), every row of it unless the caller's
 * `rowLimit` or `byteLimit` stops it earlier.
 *
 * A result within `SPECTRA_RESULT_INLINE_MAX_BYTES` (at most 250,000 bytes, under the 256 KiB Step
 * Functions limit) is the execution's output. A larger one is written, as it is read, to the
 * results bucket (functions/common/result-spill.ts); the output then carries its location
 * (`result`) and the rows that fit in the budget. Memory stays the same whatever the size: a
 * page being read, a page being written, and the upload's buffers.
 *
 * A batch's statements, and the result of each that returns rows, share the inline budget
 * instead: the rows that do not fit are left out (`truncated`).
 *
 * @returns the execution's output.
 * @throws {ResultTooLargeError} when the Data API refuses the result for its size.
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
  if (query.batchSize !== undefined)
    return fetchBatchResults(deps, result, deps.config.resultInlineMaxBytes);

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

  const reader = new ResultReader(result, state.executionArn, limitsOf(query), deps);
  try {
    await reader.readAll();
  } catch (error) {
    await reader.abort();
    // The Data API's errors are Spectra's already; S3's throttling and 5xx become transient too.
    rethrowTransient(error, 'Writing the result to S3');
  }
  deps.telemetry.logger.info('Fetched results', {
    rowCount: result.rowCount,
    totalRows: result.totalRows,
    truncated: result.truncated,
    writtenRows: result.result?.rows,
    writtenBytes: result.result?.bytes,
    parts: result.result?.parts,
  });
  return result;
}

const limitsOf = (query: Query): Limits => ({ rows: query.rowLimit, bytes: query.byteLimit });

/** One FetchResults' reading of a result: the inline rows, and the written result once it spills. */
class ResultReader {
  /** Bytes the output takes so far, counted as Step Functions counts them. */
  private used = 0;
  private delivered = 0;
  private deliveredBytes = 0;
  private spill: ResultSpill | undefined;
  private readonly budget: number;

  constructor(
    private readonly result: QueryResult,
    private readonly executionArn: string,
    private readonly limits: Limits,
    private readonly deps: StepDeps,
  ) {
    this.budget = deps.config.resultInlineMaxBytes;
  }

  async readAll(): Promise<void> {
    const { result, deps } = this;
    let page = await deps.dataApi.resultPage(result.statementId, undefined);
    result.columns = toResultColumns(page.columns);
    result.totalRows = page.totalRows ?? 0;
    this.used = jsonBytes(result) + ENVELOPE_SLACK_BYTES;
    for (;;) {
      // While a result is being written, the next page is read as this one is: the Data API's
      // latency and the upload overlap. Not before: an inline result reads no page it won't use.
      const next =
        page.nextToken !== undefined && this.spill !== undefined && !this.limitWithin(page)
          ? deps.dataApi.resultPage(result.statementId, page.nextToken)
          : undefined;
      const stopped = (await this.take(page)) || result.truncated;
      if (stopped || page.nextToken === undefined) {
        await next?.catch(() => undefined);
        break;
      }
      page = await (next ?? deps.dataApi.resultPage(result.statementId, page.nextToken));
    }
    result.rowCount = result.rows.length;
    result.totalRows = Math.max(result.totalRows, this.delivered);
    if (this.spill !== undefined) result.result = await this.spill.finish();
  }

  async abort(): Promise<void> {
    await this.spill?.abort();
  }

  /** Whether the row limit ends the result within this page (so no further page is needed). */
  private limitWithin(page: ResultPage): boolean {
    return (
      this.limits.rows !== undefined && this.delivered + page.records.length >= this.limits.rows
    );
  }

  /** Takes a page's rows; true when a limit stopped the result. */
  private async take(page: ResultPage): Promise<boolean> {
    const { result, limits } = this;
    for (const record of page.records) {
      if (limits.rows !== undefined && this.delivered >= limits.rows) {
        result.truncated = true;
        return true;
      }
      const row = record.map(toResultValue);
      // Written once: its size decides where it goes, and the same text is its line in S3.
      const json = JSON.stringify(row);
      const rowBytes = Buffer.byteLength(json, 'utf8');
      // The row's line in the written result: its JSON and a line break.
      if (limits.bytes !== undefined && this.deliveredBytes + rowBytes + 1 > limits.bytes) {
        result.truncated = true;
        return true;
      }
      this.delivered++;
      this.deliveredBytes += rowBytes + 1;
      // The last row the limit allows, and a page after this one: rows are left out.
      if (this.delivered === limits.rows && record === page.records.at(-1) && page.nextToken) {
        result.truncated = true;
      }
      if (this.spill !== undefined) {
        await this.spill.writeJson(json, rowBytes);
      } else if (this.used + rowBytes + 1 <= this.budget) {
        result.rows.push(row); // and the comma before it
        this.used += rowBytes + 1;
      } else {
        this.spill = this.startSpill();
        for (const shown of result.rows) await this.spill.write(shown);
        await this.spill.writeJson(json, rowBytes);
        // The preview gives up rows until the output has room for `result` too.
        while (this.used + WRITTEN_RESULT_BYTES > this.budget && result.rows.length > 0) {
          this.used -= jsonBytes(result.rows.pop()) + 1;
        }
      }
    }
    return false;
  }

  private startSpill(): ResultSpill {
    const { deps, result, executionArn } = this;
    const createdAt = deps.clock();
    const execution = executionArn.split(':').at(7) ?? 'result';
    return new ResultSpill({
      s3: deps.s3,
      bucket: deps.config.resultsBucketName,
      keyPrefix: resultKeyPrefix(executionArn, result.statementId),
      statementId: result.statementId,
      columns: result.columns,
      partBytes: deps.config.resultPartBytes,
      createdAt,
      expiresAt: resultExpiresAt(createdAt, deps.config.resultRetentionDays),
      downloadName: `${execution}.jsonl.gz`,
    });
  }
}

export const handler = middy<unknown, QueryResult>()
  .use(handlerMiddlewares)
  .handler((event) => fetchResults(event));
