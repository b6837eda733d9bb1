import {
  type HistoryEvent,
  paginateGetExecutionHistory,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { rethrowTransient } from './errors.ts';
import { leavesSessionState, tenantIdOf } from './execution-input.ts';

/**
 * What a Step Functions execution's history says about a query that it no longer tells itself:
 * which statement it submitted, for which tenant, and whether a Lambda task was still running
 * when it stopped.
 */

/** Enough pages (1,000 events each) for an execution that polled for its full 25 hours. */
const MAX_HISTORY_PAGES = 30;

const TASK_IN_FLIGHT = new Set(['TaskScheduled', 'TaskStarting', 'TaskStarted', 'TaskSubmitted']);
const TASK_ENDED = new Set([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
]);

/**
 * Whether a state's `query` says its SQL leaves state in its session: its `leavesSessionState`, or
 * for a state written before the query kept that (and still carried its SQL), the SQL itself.
 */
function sqlLeavesState(query: unknown): boolean | undefined {
  if (query === null || typeof query !== 'object') return undefined;
  const { leavesSessionState: flag } = query as { leavesSessionState?: unknown };
  if (typeof flag === 'boolean') return flag;
  const { sql, statements } = query as { sql?: unknown; statements?: unknown };
  const texts = Array.isArray(statements) ? statements.filter((s) => typeof s === 'string') : [];
  if (typeof sql === 'string') texts.push(sql);
  return texts.length === 0 ? undefined : leavesSessionState({ statements: texts });
}

/**
 * The workflow state a Lambda task returned. The `lambda:invoke` integration records the whole
 * invocation result, `{"Payload": {...}, "StatusCode": 200, ...}`, as a JSON string.
 */
export function taskPayload(event: HistoryEvent): Record<string, unknown> | undefined {
  const output = event.taskSucceededEventDetails?.output;
  if (output === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(output);
    if (parsed === null || typeof parsed !== 'object' || !('Payload' in parsed)) return undefined;
    const { Payload } = parsed;
    return Payload !== null && typeof Payload === 'object'
      ? (Payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const statementIdOf = (payload: Record<string, unknown> | undefined): string | undefined => {
  const statement = payload?.statement;
  if (statement === null || typeof statement !== 'object' || !('statementId' in statement))
    return undefined;
  return typeof statement.statementId === 'string' ? statement.statementId : undefined;
};

/** The submit attempt and run of the workflow state a scheduled Lambda task was handed. */
function submissionOf(event: HistoryEvent): { submitAttempt?: number; run?: number } {
  try {
    type Submission = { submitAttempt?: unknown; run?: unknown };
    const parameters: unknown = JSON.parse(event.taskScheduledEventDetails?.parameters ?? '');
    const payload = (parameters as { Payload?: Submission & { state?: Submission } })?.Payload;
    // Submit Query is handed the state beside the execution input; the other steps the state.
    const state = payload?.state ?? payload;
    return {
      ...(typeof state?.submitAttempt === 'number' ? { submitAttempt: state.submitAttempt } : {}),
      ...(typeof state?.run === 'number' ? { run: state.run } : {}),
    };
  } catch {
    return {};
  }
}

export interface HistoryFindings {
  statementId: string | undefined;
  tenantId: string | undefined;
  /**
   * The query's SQL leaves state in its session (see leavesSessionState), as the latest state a
   * task returned says; undefined when no task returned one.
   */
  leavesSessionState: boolean | undefined;
  /** A Lambda task had started and not ended when the execution stopped. */
  taskInFlight: boolean;
  /**
   * The task in flight, when one was: the submission its input names (the submit attempt and run
   * of the workflow state it was handed), if its input is a workflow state.
   */
  inFlight?: { submitAttempt?: number; run?: number };
  /**
   * The execution ended in a Fail state, which only the failure path leads to: Release Session
   * After Failure ran before it and gave back what the execution held.
   */
  endedInFailState: boolean;
}

/**
 * Reads the history newest first: the latest task that returned a statement names the statement
 * the execution submitted (a resubmission only follows a failed submission, so the latest one is
 * the only one that can still run). Stops as soon as it knows the statement and the tenant.
 *
 * @throws {TransientServiceError} when Step Functions keeps throttling or failing.
 */
export async function readHistory(
  sfn: SFNClient,
  executionArn: string,
  knownTenantId: string | undefined,
): Promise<HistoryFindings> {
  const findings: HistoryFindings = {
    statementId: undefined,
    tenantId: knownTenantId,
    leavesSessionState: undefined,
    taskInFlight: false,
    endedInFailState: false,
  };
  let sawTaskEvent = false;
  let inFlightRead = false;
  let pages = 0;
  try {
    for await (const page of paginateGetExecutionHistory(
      { client: sfn },
      { executionArn, reverseOrder: true, includeExecutionData: true },
    )) {
      for (const event of page.events ?? []) {
        const type = event.type ?? '';
        if (!sawTaskEvent && type === 'FailStateEntered') findings.endedInFailState = true;
        if (!sawTaskEvent && (TASK_IN_FLIGHT.has(type) || TASK_ENDED.has(type))) {
          sawTaskEvent = true;
          findings.taskInFlight = TASK_IN_FLIGHT.has(type);
          if (findings.taskInFlight) findings.inFlight = {};
        }
        if (type === 'TaskScheduled' && findings.inFlight && !inFlightRead) {
          inFlightRead = true;
          Object.assign(findings.inFlight, submissionOf(event));
        }
        if (type === 'TaskSucceeded') {
          const payload = taskPayload(event);
          findings.statementId ??= statementIdOf(payload);
          findings.tenantId ??= tenantIdOf(payload?.query);
          findings.leavesSessionState ??= sqlLeavesState(payload?.query);
        } else if (type === 'ExecutionStarted') {
          findings.tenantId ??= tenantIdOf(event.executionStartedEventDetails?.input);
        }
        const knowsInFlight = !findings.inFlight || inFlightRead;
        if (findings.statementId !== undefined && findings.tenantId !== undefined && knowsInFlight)
          return findings;
      }
      pages++;
      if (pages >= MAX_HISTORY_PAGES) break;
    }
  } catch (error) {
    rethrowTransient(error, 'Step Functions GetExecutionHistory');
  }
  return findings;
}
