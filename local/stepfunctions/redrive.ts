import type { AttemptLog } from './history.ts';
import { RESUME_STATE } from './local-execution.ts';

/**
 * RedriveExecution's rules as AWS has them: which executions it redrives, from which state, and
 * its idempotency. The local Step Functions service applies them
 * (service.ts, and execution-runs.ts for whether an execution is redrivable).
 */

/** AWS redrives an execution within 14 days of its end... */
export const REDRIVABLE_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;
/** ...whose history leaves room for ExecutionRedriven and one more event. */
export const MAX_HISTORY_EVENTS_TO_REDRIVE = 24_999;

/**
 * The last 10 client tokens that redrove an execution are honoured, each for 15 minutes: a
 * repeated one returns the first redrive's date instead of redriving again.
 */

export interface RedriveToken {
  token: string;
  /** Epoch milliseconds of the redrive it started. */
  redriveDate: number;
}

const TOKENS_KEPT = 10;
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

export function findRedriveToken(
  tokens: readonly RedriveToken[],
  token: string,
  now: number,
): RedriveToken | undefined {
  return tokens.find((t) => t.token === token && now - t.redriveDate <= TOKEN_LIFETIME_MS);
}

export function rememberRedriveToken(tokens: RedriveToken[], token: string, now: number): void {
  tokens.push({ token, redriveDate: now });
  if (tokens.length > TOKENS_KEPT) tokens.splice(0, tokens.length - TOKENS_KEPT);
}

/**
 * The state the execution did not finish: the last one entered, with the input it was entered
 * with. The engine enters one state at a time and ends inside the one that fails or is stopped,
 * so that is AWS's "unsuccessful step", the state a redrive runs again; after a Catch it is the
 * Fail state itself. (Stopped between two states, the next was never entered: the last entered
 * one is run again, as the nearest state that holds its input.)
 */
export function unfinishedState(
  attempts: readonly AttemptLog[],
): { name: string; input: unknown } | undefined {
  for (const attempt of [...attempts].reverse()) {
    const entered = (attempt.engineEvents as { type: string; state?: StateShape }[]).findLast(
      (event) => event.type === 'StateEntered' && event.state?.name !== RESUME_STATE,
    );
    if (entered?.state) return { name: entered.state.name, input: entered.state.input };
  }
  return undefined;
}

interface StateShape {
  name: string;
  input?: unknown;
}
