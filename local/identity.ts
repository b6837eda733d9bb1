import { CONFIG_TABLE } from '../functions/common/config-table.ts';
import type { FunctionName } from '../functions/registry.ts';

/**
 * Who the local stack is on AWS's terms: its region and account, the names of what it creates,
 * and the ARNs they have. The stack, its clients (the `spectra` client and CLI, the benchmark,
 * the reliability suite) and its console read them here.
 */

export const LOCAL_REGION = 'us-east-1';
/** An account that exists nowhere on AWS, so a local ARN is never mistaken for a deployed one. */
export const LOCAL_ACCOUNT = '000000000000';
/** The local stack accepts any credentials; these spare a local caller from configuring any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Where `npm start` listens unless `SPECTRA_LOCAL_PORT` says otherwise. */
export const DEFAULT_LOCAL_PORT = 4599;
export const LOCAL_ENDPOINT = `http://127.0.0.1:${DEFAULT_LOCAL_PORT}`;

export const LOCAL_STATE_MACHINE_NAME = 'spectra-query';
/** The functions' default sessions table (`SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME`). */
export const LOCAL_SESSIONS_TABLE_NAME = CONFIG_TABLE.table.default;
/** The results bucket of the local stack (`SPECTRA_RESULTS_BUCKET_NAME`), created at start. */
export const LOCAL_RESULTS_BUCKET_NAME = CONFIG_TABLE.resultsBucket.default;
/** The cluster the local functions name; the emulator takes any name for its one warehouse. */
export const LOCAL_CLUSTER_IDENTIFIER = 'spectra-local';

export const localFunctionArn = (name: FunctionName) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:spectra-${name}`;

export const stateMachineArnOf = (name: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;

export const executionArnOf = (stateMachineName: string, executionName: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${executionName}`;

/** The state machine of the local stack (`npm start`). */
export const LOCAL_STATE_MACHINE_ARN = stateMachineArnOf(LOCAL_STATE_MACHINE_NAME);

/** Where the local stack serves its console. */
export const CONSOLE_PATH = '/console';

/**
 * The console's page for an execution (or its list of executions) on the stack at `endpoint`,
 * for the tools that print a link when they talk to a local stack.
 */
export const consoleUrl = (endpoint: string, executionArn?: string) =>
  `${endpoint.replace(/\/+$/, '')}${CONSOLE_PATH}${
    executionArn === undefined ? '' : `/executions/${encodeURIComponent(executionArn)}`
  }`;
