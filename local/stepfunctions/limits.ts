import { STEP_FUNCTIONS_LIMITS } from '../../functions/common/payload-limits.ts';
import { historyEventsOf } from './history.ts';

/**
 * Step Functions' limits on one execution, as the local service enforces them: 256 KiB per state
 * input and output, task result and execution output; 256 characters of error and 32,768 of cause;
 * 25,000 history events. A breach ends the execution as it does on AWS, where no Catch sees it:
 *
 * - a payload over 262,144 bytes of UTF-8 JSON: `States.DataLimitExceeded`, with AWS's words for
 *   a result ("The state/task '<name>' returned a result with a size exceeding the maximum number
 *   of bytes service limit.") and words of the same form for an input;
 * - the 25,000th history event: `States.Runtime`, "The execution reached the maximum number of
 *   history events (25000).", written as that 25,000th event;
 * - an error or a cause over its length: what AWS does then is not documented; the local service
 *   treats it as a payload over its limit, `States.DataLimitExceeded`, so that a local run shows it.
 */

export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';
export const HISTORY_LIMIT_ERROR = 'States.Runtime';
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${STEP_FUNCTIONS_LIMITS.historyEvents}).`;

/** How a limit ended an execution. */
export interface LimitBreach {
  error: string;
  cause: string;
  /** The history events kept before the failure event (a history limit keeps exactly 24,999). */
  afterEvents: number;
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

/** The engine's event, as far as the limits read it. */
interface WatchedEvent {
  type: string;
  state?: { name: string; input?: unknown; output?: unknown };
  output?: unknown;
  Error?: string;
  Cause?: unknown;
}

/**
 * Watches one attempt of an execution (its start, or a redrive) as its events come: counts its
 * history events and checks each payload, and remembers the first breach. The local execution
 * stops the engine on a breach and ends the execution with it.
 */
export class ExecutionLimits {
  breach: LimitBreach | undefined;
  private events: number;
  private readonly redrive: { stateName: string; resumed: boolean } | undefined;

  constructor(
    private readonly onBreach: (breach: LimitBreach) => void,
    options: { eventsBefore?: number; redriveOf?: string } = {},
  ) {
    this.events = options.eventsBefore ?? 0;
    this.redrive =
      options.redriveOf === undefined
        ? undefined
        : { stateName: options.redriveOf, resumed: false };
  }

  /** History events so far. */
  get historyEvents(): number {
    return this.events;
  }

  /** Counts and checks an event of the engine's log. */
  engineEvent(event: WatchedEvent): void {
    if (this.breach) return;
    const problem = payloadProblemOf(event);
    if (problem !== undefined) {
      this.fail(DATA_LIMIT_EXCEEDED, problem);
      return;
    }
    const added = historyEventsOf(event, this.redrive);
    if (
      this.redrive &&
      event.type === 'StateEntered' &&
      event.state?.name === this.redrive.stateName
    )
      this.redrive.resumed = true;
    this.count(added);
  }

  /**
   * Before a Task invokes its function, with its input after Parameters: false when the
   * execution must end instead (a breach, now or earlier).
   */
  taskStarting(stateName: string, input: unknown, events: number): boolean {
    if (this.breach) return false;
    if (bytesOf(input) > LIMIT_BYTES) {
      this.fail(DATA_LIMIT_EXCEEDED, inputTooLarge(stateName));
      return false;
    }
    this.count(events);
    return this.breach === undefined;
  }

  /** After a Task's function returned `result` (or failed with `error` and `cause`). */
  taskEnded(
    stateName: string,
    outcome: { result: unknown } | { error: string; cause: string },
    events: number,
  ): void {
    if (this.breach) return;
    const problem =
      'result' in outcome
        ? bytesOf(outcome.result) > LIMIT_BYTES
          ? resultTooLarge(stateName)
          : undefined
        : failedWith(`The state/task '${stateName}' failed`, outcome.error, outcome.cause);
    if (problem !== undefined) this.fail(DATA_LIMIT_EXCEEDED, problem);
    else this.count(events);
  }

  private count(events: number): void {
    if (this.breach || events === 0) return;
    const room = STEP_FUNCTIONS_LIMITS.historyEvents - 1 - this.events;
    if (events > room) {
      this.events += room;
      this.fail(HISTORY_LIMIT_ERROR, HISTORY_LIMIT_CAUSE);
      return;
    }
    this.events += events;
  }

  private fail(error: string, cause: string): void {
    this.breach = { error, cause, afterEvents: this.events };
    this.onBreach(this.breach);
  }
}

const LIMIT_BYTES = STEP_FUNCTIONS_LIMITS.payloadBytes;

const resultTooLarge = (stateName: string) =>
  `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`;

const inputTooLarge = (stateName: string) =>
  `The state/task '${stateName}' has an input with a size exceeding the maximum number of bytes service limit.`;

/** What breaks a payload limit in an engine event, in the words of the failure; if anything. */
function payloadProblemOf(event: WatchedEvent): string | undefined {
  const name = event.state?.name ?? '';
  switch (event.type) {
    case 'StateEntered':
      return bytesOf(event.state?.input) > LIMIT_BYTES ? inputTooLarge(name) : undefined;
    case 'StateExited':
      return bytesOf(event.state?.output) > LIMIT_BYTES ? resultTooLarge(name) : undefined;
    case 'ExecutionSucceeded':
      return bytesOf(event.output) > LIMIT_BYTES
        ? 'The execution output exceeds the maximum number of bytes service limit.'
        : undefined;
    case 'ExecutionFailed':
      return failedWith('The execution failed', event.Error, event.Cause);
    default:
      return undefined;
  }
}

/** `what` with what is too long about a failure's error or cause, if anything. */
function failedWith(what: string, error: unknown, cause: unknown): string | undefined {
  const errorText = typeof error === 'string' ? error : '';
  const causeText = typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
  if (errorText.length > STEP_FUNCTIONS_LIMITS.errorCharacters)
    return `${what} with an error of ${errorText.length} characters, more than the ${STEP_FUNCTIONS_LIMITS.errorCharacters} allowed.`;
  if (causeText.length > STEP_FUNCTIONS_LIMITS.causeCharacters)
    return `${what} with a cause of ${causeText.length} characters, more than the ${STEP_FUNCTIONS_LIMITS.causeCharacters} allowed.`;
  return undefined;
}
