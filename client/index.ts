/**
 * The Spectra client library: `SpectraClient`, its options and results, and the errors it throws.
 * The CLI (`client/cli.ts`) and the demo are built on it.
 */

export {
  DEFAULT_SESSIONS_TABLE_NAME,
  LOCAL_ENDPOINT,
  LOCAL_STATE_MACHINE_ARN,
} from './connection.ts';
export * from './errors.ts';
export type { StateOutcome, StateVisit } from './history.ts';
export { executionArnOf, failureOf } from './records.ts';
export { SpectraClient } from './spectra-client.ts';
export type * from './types.ts';
