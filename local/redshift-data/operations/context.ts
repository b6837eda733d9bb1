import type { RunnerContext } from '../statement-runner.ts';

/** One Data API operation: the request body in, the response body out (or an AwsServiceError). */
export type Operation = (input: Record<string, unknown>) => Promise<unknown>;
export type Operations = Record<string, Operation>;

/** What the operations that submit and read statements work on. */
export interface OperationContext extends RunnerContext {
  /** Open sessions allowed before ActiveSessionsExceededException. */
  maxSessions: number;
  /** Rows per GetStatementResult(V2) page. */
  resultPageRows: number;
}
