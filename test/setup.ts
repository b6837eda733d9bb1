// Registers toReceiveCommandWith and the other aws-sdk-client-mock matchers, with their types.
import 'aws-sdk-client-mock-vitest/extend';
import { quietInProcessFunctions } from '../local/quiet-functions.ts';

/**
 * The environment a deployed function gets, so that modules which read their configuration on
 * load can be imported by any test. A test that needs other values sets them before a dynamic
 * import.
 */
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER ??= 'spectra-test';
process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME ??= 'spectra-sessions';
// Logs and EMF metrics would drown the test output; tests read metrics through spies instead.
quietInProcessFunctions();
