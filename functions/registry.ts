/**
 * Spectra's Lambda functions, in one list for the CDK app, the local stack, the bundler and the
 * benchmark: the name each is deployed under, its source file, what invokes it, the role it runs
 * with, its timeout and its description.
 *
 * Roles: the functions that call the Data API share one (`dataApi`): a statement's status and rows
 * can be read only by the identity that ran it (see infra/constructs/data-api-access.ts), so
 * SubmitQuery, PollStatus, FetchResults and CancelStoppedExecution must be one identity. The
 * others only touch the sessions table and get a role that cannot run SQL (`sessionStore`).
 *
 * The registry is also the one way into a function's module from outside it: {@link loadHandler}
 * and {@link handlersFor} import the module its entry names. The modules are imported when asked
 * for, not with this list: each builds its SDK clients and reads its configuration on load, which
 * the CDK app and the bundler must not.
 */

import type { StepDeps } from './common/deps.ts';
import type { LambdaHandler, StepHandler } from './common/handler.ts';
import type { FetchResultsDeps } from './fetch-results.ts';

export type FunctionTrigger =
  /** A Task state of statemachine/query.asl.json, whose `${<Name>FunctionArn}` is its ARN. */
  | 'workflow'
  /** The clean-up schedule. */
  | 'schedule'
  /**
   * Executions that end FAILED, ABORTED or TIMED_OUT (an EventBridge rule): a stopped execution
   * runs no Catch and one that failed at a step runs no failure path, so this function frees the
   * lease (and cancels a stopped execution's statement).
   */
  | 'stopped-execution';

export type FunctionRole = 'dataApi' | 'sessionStore';

export interface FunctionSpec {
  name: string;
  entry: string;
  trigger: FunctionTrigger;
  role: FunctionRole;
  timeoutSeconds: number;
  /** Lambda memory, which sets its CPU too. @default 256 */
  memoryMB?: number;
  description: string;
}

export const FUNCTIONS = [
  {
    name: 'AcquireSession',
    entry: 'functions/acquire-session.ts',
    trigger: 'workflow',
    role: 'sessionStore',
    timeoutSeconds: 30,
    description: "Spectra: validates the input and leases one of the tenant's pooled sessions",
  },
  // SubmitQuery and PollStatus hold their Data API request on the server for up to
  // SPECTRA_SUBMIT_WAIT_SECONDS / SPECTRA_POLL_WAIT_SECONDS (at most 30 s) and keep 8 s in hand.
  {
    name: 'SubmitQuery',
    entry: 'functions/submit.ts',
    trigger: 'workflow',
    role: 'dataApi',
    timeoutSeconds: 60,
    description: 'Spectra: submits the SQL on the leased or a new Data API session',
  },
  {
    name: 'PollStatus',
    entry: 'functions/poll-status.ts',
    trigger: 'workflow',
    role: 'dataApi',
    timeoutSeconds: 60,
    description: "Spectra: long-polls the statement's status and renews the lease",
  },
  // FetchResults reads a result of up to the Data API's limit (hundreds of MB) and gzips it into
  // the results bucket: CPU-bound work, which Lambda scales with memory (1,024 MB is about 0.6 of
  // a vCPU), in at most Lambda's 15 minutes. Its memory use stays at a few fixed buffers.
  {
    name: 'FetchResults',
    entry: 'functions/fetch-results.ts',
    trigger: 'workflow',
    role: 'dataApi',
    timeoutSeconds: 900,
    memoryMB: 1024,
    description:
      'Spectra: reads the result; one over the inline budget is streamed to the results bucket',
  },
  {
    name: 'InvalidateSession',
    entry: 'functions/invalidate-session.ts',
    trigger: 'workflow',
    role: 'sessionStore',
    timeoutSeconds: 30,
    description: 'Spectra: drops a session the Data API refused',
  },
  {
    name: 'ReleaseSession',
    entry: 'functions/release-session.ts',
    trigger: 'workflow',
    role: 'sessionStore',
    timeoutSeconds: 30,
    description: "Spectra: returns the session to the tenant's pool",
  },
  {
    name: 'CleanupSessions',
    entry: 'functions/cleanup-sessions.ts',
    trigger: 'schedule',
    role: 'sessionStore',
    // A scan of the whole table; small, but not bounded by one tenant.
    timeoutSeconds: 300,
    description: 'Spectra: deletes the records of expired sessions (every 15 minutes)',
  },
  {
    name: 'CancelStoppedExecution',
    entry: 'functions/cancel-stopped-execution.ts',
    trigger: 'stopped-execution',
    role: 'dataApi',
    timeoutSeconds: 60,
    description:
      'Spectra: frees the session of a failed, aborted or timed-out execution, cancels a stopped one',
  },
] as const satisfies readonly FunctionSpec[];

type Entry = (typeof FUNCTIONS)[number];
export type FunctionName = Entry['name'];
/** The functions the state machine's Task states invoke. */
export type WorkflowFunctionName = Extract<Entry, { trigger: 'workflow' }>['name'];

const isWorkflow = (fn: Entry): fn is Extract<Entry, { trigger: 'workflow' }> =>
  fn.trigger === 'workflow';

export const WORKFLOW_FUNCTIONS = FUNCTIONS.filter(isWorkflow);

export function functionSpec(name: FunctionName): FunctionSpec {
  const spec = FUNCTIONS.find((fn) => fn.name === name);
  if (!spec) throw new Error(`${name} is not a Spectra function`);
  return spec;
}

/** What a function's module exports: its handler (functions/common/handler.ts). */
interface FunctionModule<Deps> {
  handler: StepHandler<Deps>;
}

async function importModule<Deps>(name: FunctionName): Promise<FunctionModule<Deps>> {
  const url = new URL(`../${functionSpec(name).entry}`, import.meta.url);
  return (await import(url.href)) as FunctionModule<Deps>;
}

/**
 * One function's handler on its module's deps, as Lambda runs it. The environment must be set
 * first: the module reads it on load.
 */
export async function loadHandler(name: FunctionName): Promise<LambdaHandler> {
  return (await importModule(name)).handler;
}

/** The workflow's handlers on their modules' deps; the environment must be set first. */
export async function loadHandlers(): Promise<Record<WorkflowFunctionName, LambdaHandler>> {
  return workflowHandlers(async (name) => (await importModule(name)).handler);
}

/**
 * The workflow's handlers on deps of the caller's, each wrapped as its module's handler is: the
 * local stack builds them on its own clock (a simulated one runs the functions on simulated time
 * too), the benchmark on the configurations of the designs it compares. The environment must be
 * set first, as for {@link loadHandler}.
 */
export async function handlersFor(
  deps: StepDeps & Partial<Pick<FetchResultsDeps, 's3'>>,
): Promise<Record<WorkflowFunctionName, LambdaHandler>> {
  // FetchResults also writes to the results bucket, with the module's S3 client unless the caller
  // gives its own; the other steps' deps have no S3 client (functions/common/deps.ts says why).
  const s3 = deps.s3 ?? (await import('./common/clients.ts')).s3Client;
  return workflowHandlers(async (name) =>
    (await importModule<FetchResultsDeps>(name)).handler.withDeps({ ...deps, s3 }),
  );
}

async function workflowHandlers(
  load: (name: WorkflowFunctionName) => Promise<LambdaHandler>,
): Promise<Record<WorkflowFunctionName, LambdaHandler>> {
  const entries = await Promise.all(
    WORKFLOW_FUNCTIONS.map(async (fn) => [fn.name, await load(fn.name)] as const),
  );
  return Object.fromEntries(entries) as Record<WorkflowFunctionName, LambdaHandler>;
}
