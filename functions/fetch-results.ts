import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '#common/clients';
import type { ResultPage } from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { rethrowTransient } from '#common/errors';
import type { BatchStatementResult, QueryResult } from '#common/execution-output';
import { stepHandler, workflowTags } from '#common/handler';
import { ResultSpill } from '#common/result-spill';
import { resultExpiresAt, resultKeyPrefix } from '#common/result-store';
import {
  emptyResultSet,
  jsonBytes,
  type ResultSet,
  toResultColumns,
  toResultValue,
} from '#common/results';
import {
  type Query,
  type StatementStatus,
  type SubmittedState,
  submittedStateSchema,
} from '#common/workflow-state';

/** Room for `rowCount`, `totalRows` and `truncated` to change length after the envelope is measured. */
const ENVELOPE_SLACK_BYTES = 64;

/**
 * Room for `result` (the location and counts of a written result) in the output: its URI holds
 * the state machine's and the execution's names (80 characters each at most) and the statement id.
 */
const WRITTEN_RESULT_BYTES = 1024;

/**
 * What a batch keeps back, while it reads one result set, for each result set it has still to
 * read: room for a set's columns and the location of a written result, so that every set of the
 * batch can at least be written to the bucket within the one budget.
 */
const UNREAD_SET_RESERVE_BYTES = 2 * WRITTEN_RESULT_BYTES;

export interface FetchResultsDeps extends StepDeps {
  /** The results bucket's client, which a result over the inline budget is written with. */
  s3: S3Client;
}

/** Where the caller's limits stop the result: `undefined` for no limit. */
interface Limits {
  rows: number | undefined;
  bytes: number | undefined;
}

/** What one result set is read with. */
interface SetReading {
  statementId: string;
  executionArn: string;
  limits: Limits;
  /** Bytes of the output this set may take, its columns and counts included. */
  budget: number;
  /** How many times the set appears in the output (a batch's last one is the top level too). */
  copies: number;
  /** The name a browser saves the written rows under. */
  downloadName: string;
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
 * For a batch, every statement's outcome and the result set of each that returns rows share that
 * one budget, and each set is kept inline or written to the bucket by the same rule.
 *
 * @returns the execution's output.
 * @throws {ResultTooLargeError} when the Data API refuses the result for its size.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function fetchResults(
  state: SubmittedState,
  deps: FetchResultsDeps,
): Promise<QueryResult> {
  const { statement, query, session } = state;
  const result: QueryResult = {
    tenantId: query.tenantId,
    statementId: statement.statementId,
    sessionId: session.sessionId,
    sessionReused: session.reused,
    ...emptyResultSet(),
  };
  if (query.batchSize !== undefined)
    return fetchBatchResults(deps, result, state.executionArn, query);

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
  const { set } = await readResultSet(deps, {
    statementId: statement.statementId,
    executionArn: state.executionArn,
    limits: limitsOf(query),
    budget: deps.config.resultInlineMaxBytes - envelope,
    copies: 1,
    downloadName: `${executionNameOf(state.executionArn)}.jsonl.gz`,
  });
  Object.assign(result, set);
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

/**
 * Reads a batch's statements (DescribeStatement's SubStatements) and the result of each that
 * returns rows, all within the one budget: the last such result first, since it is also the
 * output's top-level result (and counts twice), then the others in order. Each set may take what
 * the others have left, less a reserve for each set still to read; one that does not fit is
 * written to the bucket, as a single statement's result is.
 */
async function fetchBatchResults(
  deps: FetchResultsDeps,
  result: QueryResult,
  executionArn: string,
  query: Query,
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
  const budget = deps.config.resultInlineMaxBytes;
  let remaining = budget - jsonBytes(result) - ENVELOPE_SLACK_BYTES;
  const order = last ? [last, ...withRows.slice(0, -1)] : [];
  const execution = executionNameOf(executionArn);
  for (const [position, entry] of order.entries()) {
    const unread = order.length - position - 1;
    const { set, bytes } = await readResultSet(deps, {
      statementId: entry.statementId,
      executionArn,
      limits: limitsOf(query),
      budget: remaining - unread * UNREAD_SET_RESERVE_BYTES,
      copies: entry === last ? 2 : 1,
      downloadName: `${execution}-statement-${entry.index + 1}.jsonl.gz`,
    });
    entry.result = set;
    remaining -= bytes;
  }
  if (last?.result) Object.assign(result, last.result);
  deps.telemetry.logger.info('Fetched batch results', {
    statements: statements.length,
    resultSets: withRows.length,
    writtenResultSets: withRows.filter((entry) => entry.result?.result !== undefined).length,
    bytes: budget - remaining,
  });
  return result;
}

const limitsOf = (query: Query): Limits => ({ rows: query.rowLimit, bytes: query.byteLimit });

/** The execution's name, the last field of its ARN. */
const executionNameOf = (executionArn: string) => executionArn.split(':').at(7) ?? 'result';

/**
 * Reads one statement's result set, inline or written to the bucket.
 *
 * @returns the set, and the bytes of the output it takes (counted `copies` times).
 */
async function readResultSet(
  deps: FetchResultsDeps,
  reading: SetReading,
): Promise<{ set: ResultSet; bytes: number }> {
  const reader = new ResultSetReader(reading, deps);
  try {
    return await reader.readAll();
  } catch (error) {
    await reader.abort();
    // The Data API's errors are Spectra's already; S3's throttling and 5xx become transient too.
    return rethrowTransient(error, 'Writing the result to S3');
  }
}

/** One reading of a result set: the inline rows, and the written result once it spills. */
class ResultSetReader {
  private readonly set = emptyResultSet();
  /** Bytes the set takes of the output so far (every copy), counted as Step Functions counts them. */
  private used = 0;
  private delivered = 0;
  private deliveredBytes = 0;
  private spill: ResultSpill | undefined;

  constructor(
    private readonly reading: SetReading,
    private readonly deps: FetchResultsDeps,
  ) {}

  async readAll(): Promise<{ set: ResultSet; bytes: number }> {
    const { set, deps, reading } = this;
    let page = await deps.dataApi.resultPage(reading.statementId, undefined);
    set.columns = toResultColumns(page.columns);
    set.totalRows = page.totalRows ?? 0;
    this.used = (jsonBytes(set) + ENVELOPE_SLACK_BYTES) * reading.copies;
    for (;;) {
      // While a result is being written, the next page is read as this one is: the Data API's
      // latency and the upload overlap. Not before: an inline result reads no page it won't use.
      const next =
        page.nextToken !== undefined && this.spill !== undefined && !this.limitWithin(page)
          ? deps.dataApi.resultPage(reading.statementId, page.nextToken)
          : undefined;
      // Observed now, so that a failed read is not an unhandled rejection while this page is
      // written (which would end the process); it is thrown when the page is awaited below.
      next?.catch(() => undefined);
      const stopped = (await this.take(page)) || set.truncated;
      if (stopped || page.nextToken === undefined) break;
      page = await (next ?? deps.dataApi.resultPage(reading.statementId, page.nextToken));
    }
    set.rowCount = set.rows.length;
    set.totalRows = Math.max(set.totalRows, this.delivered);
    if (this.spill !== undefined) {
      set.result = await this.spill.finish();
      this.used += WRITTEN_RESULT_BYTES * reading.copies;
    }
    return { set, bytes: this.used };
  }

  async abort(): Promise<void> {
    await this.spill?.abort();
  }

  /** Whether the row limit ends the result within this page (so no further page is needed). */
  private limitWithin(page: ResultPage): boolean {
    const { rows } = this.reading.limits;
    return rows !== undefined && this.delivered + page.records.length >= rows;
  }

  /** Takes a page's rows; true when a limit stopped the result. */
  private async take(page: ResultPage): Promise<boolean> {
    const { set } = this;
    const { limits, budget, copies } = this.reading;
    for (const record of page.records) {
      if (limits.rows !== undefined && this.delivered >= limits.rows) {
        set.truncated = true;
        return true;
      }
      const row = record.map(toResultValue);
      // Written once: its size decides where it goes, and the same text is its line in S3.
      const json = JSON.stringify(row);
      const rowBytes = Buffer.byteLength(json, 'utf8');
      // The row's line in the written result: its JSON and a line break.
      if (limits.bytes !== undefined && this.deliveredBytes + rowBytes + 1 > limits.bytes) {
        set.truncated = true;
        return true;
      }
      this.delivered++;
      this.deliveredBytes += rowBytes + 1;
      // The last row the limit allows, and a page after this one: rows are left out.
      if (this.delivered === limits.rows && record === page.records.at(-1) && page.nextToken) {
        set.truncated = true;
      }
      // The row in the output, and the comma before it, in every copy of the set.
      const inlineBytes = (rowBytes + 1) * copies;
      if (this.spill !== undefined) {
        await this.spill.writeJson(json, rowBytes);
      } else if (this.used + inlineBytes <= budget) {
        set.rows.push(row);
        this.used += inlineBytes;
      } else {
        this.spill = this.startSpill();
        for (const shown of set.rows) await this.spill.write(shown);
        await this.spill.writeJson(json, rowBytes);
        // The preview gives up rows until the output has room for `result` too.
        while (this.used + WRITTEN_RESULT_BYTES * copies > budget && set.rows.length > 0) {
          this.used -= (jsonBytes(set.rows.pop()) + 1) * copies;
        }
      }
    }
    return false;
  }

  private startSpill(): ResultSpill {
    const { deps, set, reading } = this;
    const createdAt = deps.clock();
    return new ResultSpill({
      s3: deps.s3,
      bucket: deps.config.resultsBucketName,
      keyPrefix: resultKeyPrefix(reading.executionArn, reading.statementId),
      statementId: reading.statementId,
      columns: set.columns,
      partBytes: deps.config.resultPartBytes,
      createdAt,
      expiresAt: resultExpiresAt(createdAt, deps.config.resultRetentionDays),
      downloadName: reading.downloadName,
    });
  }
}

export const handler = stepHandler(fetchResults, {
  step: 'FetchResults',
  state: submittedStateSchema,
  deps: { ...defaultDeps, s3: s3Client },
  tags: workflowTags,
});
