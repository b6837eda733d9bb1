import * as redshiftDataModel from '@aws-sdk/client-redshift-data';
import { type AwsJsonService, AwsServiceError } from '../aws-json.ts';
import type { LocalClock } from '../clock.ts';
import { serviceModelOf } from '../service-model.ts';
import { createEmulatorControls, type EmulatorControls, RunControls } from './controls.ts';
import { demoTenantUsers, loadDemoData, loadRedshiftShims } from './demo-data.ts';
import { loadRedshiftDialect } from './dialect/run.ts';
import { Store } from './model.ts';
import { catalogOperations } from './operations/catalog.ts';
import type { OperationContext, Operations } from './operations/context.ts';
import { statementOperations } from './operations/statements.ts';
import { submitOperations } from './operations/submit.ts';
import type { SqlEngine } from './sql-engine.ts';

/**
 * The Redshift Data API, emulated over a {@link SqlEngine}: the twelve operations, statement
 * lifecycle, sessions, ClientToken idempotency and long polling as the Data API Reference
 * (https://docs.aws.amazon.com/redshift-data/latest/APIReference/) and the service model that
 * `@aws-sdk/client-redshift-data` is generated from describe the real service. Any
 * ClusterIdentifier or WorkgroupName names the one local warehouse; its one database is `dev`.
 *
 * The parts, as in dynalite: `model.ts` holds the store (statements, sessions, tokens, counters)
 * and its rules, `statement-runner.ts` runs statements on the engine, `operations/` answers the
 * operations by group, `requests.ts` checks request shapes, `paging.ts` pages lists and
 * `result-format.ts` writes wire values.
 *
 * Where the real service is undocumented or cannot be copied, this is what the emulator does
 * (the Data API suite, test/local/data-api/, pins each of these down):
 * - A `SecretArn` runs as the db user named by the secret: the last `/` part of the secret name,
 *   without AWS's `-XXXXXX` suffix, lower-cased (`...:secret:spectra/acme-AbC123` → `acme`);
 *   `secret_user` when the ARN has no secret name. DbUser and SecretArn together are refused.
 * - A WorkgroupName without DbUser or SecretArn runs as `iamr_local`, standing for the user
 *   Redshift Serverless derives from the caller's IAM role (`IAMR:<role>`); like that user, it is
 *   created on first use.
 * - Database users exist as on a cluster: the demo tenants' from the start, others once created
 *   ({@link EmulatorControls.createTenantUser}); the engine's superuser and roles that cannot
 *   log in are no users. A statement as a user that does not exist is accepted and ends FAILED,
 *   and the session it would open is closed. With DbUser the error is
 *   `FATAL: user "IAM:<user>" does not exist`, the form a user report shows for a missing DbUser
 *   (AWS documents only that the credentials are issued and the connection then fails); with a
 *   SecretArn, `FATAL: password authentication failed for user "<user>"`, PostgreSQL's wording,
 *   since no text for it is documented.
 * - Only `dev` exists; another Database is a ValidationException, not a failed statement.
 * - `SessionKeepAliveSeconds` sent with a `SessionId` changes that session's keep-alive.
 * - A batch's sub-statements after a failed one end ABORTED; the batch's ResultRows is the sum
 *   of its sub-statements'. GetStatementResult on a batch's own id is refused: each
 *   sub-statement (`<id>:<n>`) has its result.
 * - CSV results (GetStatementResultV2) hold one CSV text per page, starting with a header row on
 *   the first page; NULL is an empty field, an empty string `""`.
 * - A result over `maxResultBytes` (ResultSize, the UTF-8 text of its values) ends the statement
 *   FAILED with `ERROR: Database response exceeded size limit`, the troubleshooting page's words.
 * - Error texts AWS does not publish (SQL too long, parameter mistakes, SessionId with
 *   connection fields, the session limit) are the emulator's own wording.
 * - ListStatements lists FINISHED statements unless `Status` says otherwise, as documented.
 * - No limit on active statements or waiting requests, no EventBridge events (`WithEvent`), no
 *   IAM: any credentials work and RoleLevel is ignored.
 * - On PGlite (one backend for every session; pglite-sessions.ts), sessions are kept apart by
 *   switching the backend's state between connections: a session's settings and temporary tables
 *   are saved and hidden when another session's statement runs, and put back for its own. What
 *   remains different from Redshift there:
 *   - A statement that would leave a transaction open (`BEGIN`, `START TRANSACTION`) fails with
 *     SQLSTATE 0A000 and an error that says so: an open transaction would hold every other
 *     session. BatchExecuteStatement's TRANSACTION mode works. A failed transaction is reached
 *     only through the test control `sessions/fail-transaction`.
 *   - A session's hidden temporary tables are listed in `pg_class` under made-up names, readable
 *     only by their owner; a custom setting (`a.b`) another session set exists, empty, for all.
 *   - Statements run under SET SESSION AUTHORIZATION on a superuser login: one that ends as
 *     another user (`set session authorization`, `set_config('session_authorization', ...)`)
 *     fails with Redshift's `permission denied to set session authorization` and is undone, but
 *     code that becomes another user and changes back within one statement is not caught.
 *   - Cost, measured against the engine from before sessions were kept apart, in the same run
 *     (`npx tsx bench/experiments/pglite-isolation.ts`; bench/results/pglite-isolation.md, a
 *     trivial statement, medians): a statement after one of its own session's takes 1.3× as long
 *     (0.41 against 0.31 ms). A statement of another session pays for the switch: 4.5× between
 *     sessions that changed nothing (1.49 against 0.33 ms: the leaving session's settings and
 *     temporary tables are read), 9× between sessions that each hold two settings and a temporary
 *     table with its index and sequence (2.85 against 0.32 ms: RESET ALL, the settings set again,
 *     three renames each way). The PostgreSQL engine pays none of this.
 *
 * Time: timestamps, keep-alive and ClientToken windows, long polling (`WaitTimeSeconds`) and held
 * statements all follow the injectable `clock` (local/clock.ts), the machine's by default.
 */

/** 100 MB: the Data API's result size limit in its 2023 guide. */
export const DATA_API_RESULT_LIMIT_BYTES = 100 * 1024 * 1024;

export interface RedshiftDataEmulatorOptions {
  engine: SqlEngine;
  /** Open sessions allowed before ActiveSessionsExceededException; the service's limit is 500. */
  maxSessions?: number;
  /** Rows per GetStatementResult(V2) page. */
  resultPageRows?: number;
  /**
   * A statement's largest result in bytes (its ResultSize); a larger one ends the statement FAILED
   * with the Data API's "Database response exceeded size limit". Default 100 MB, the limit of the
   * 2023 guide (the current troubleshooting page says 500 MB).
   */
  maxResultBytes?: number;
  /**
   * The stack's clock (local/clock.ts), or a reading of milliseconds since the epoch that tests
   * move to expire sessions and tokens (its waits then run on the machine's clock).
   */
  clock?: LocalClock | (() => number);
  /** Loads the TICKIT-style demo tables at start (they replace earlier ones). Default true. */
  loadDemoData?: boolean;
  /** How the demo tenants' users are named (`SPECTRA_DB_USER_TEMPLATE`); see demoTenantUsers. */
  dbUserTemplate?: string;
}

export type { EmulatorControls, RedshiftDataEmulatorStats } from './controls.ts';

export interface RedshiftDataEmulator extends AwsJsonService {
  /** What tests and the `/_spectra/` routes change or read beyond the Data API's operations. */
  controls: EmulatorControls;
  /** Ends every session and pending long poll. The engine stays open: it belongs to the caller. */
  close(): Promise<void>;
}

export async function createRedshiftDataEmulator(
  options: RedshiftDataEmulatorOptions,
): Promise<RedshiftDataEmulator> {
  const { engine } = options;
  await loadRedshiftDialect();
  await loadRedshiftShims(engine);
  if (options.loadDemoData ?? true)
    await loadDemoData(engine, demoTenantUsers(options.dbUserTemplate));

  const store = new Store(options.clock);
  const run = new RunControls(store.time);
  const context: OperationContext = {
    store,
    engine,
    controls: run,
    maxSessions: options.maxSessions ?? 500,
    resultPageRows: options.resultPageRows ?? 1000,
    maxResultBytes: options.maxResultBytes ?? DATA_API_RESULT_LIMIT_BYTES,
  };
  const operations: Operations = {
    ...submitOperations(context),
    ...statementOperations(context),
    ...catalogOperations(engine),
  };

  return {
    targetPrefix: 'RedshiftData',
    contentType: 'application/x-amz-json-1.1',

    model: { model: serviceModelOf(redshiftDataModel), rules: {} },

    async handle(operation, input) {
      // Own members only: `constructor` or `toString` name no operation.
      const answer = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!answer)
        throw new AwsServiceError(
          'UnknownOperationException',
          `RedshiftData has no operation ${operation}`,
        );
      if (store.closed)
        throw new AwsServiceError('InternalServerException', 'The emulator is closed', 500);
      store.sweep();
      return answer(input);
    },

    controls: createEmulatorControls(store, run, engine),

    async close() {
      const closing = store.close();
      // Held statements go on, to end as their sessions' close says.
      run.releaseAll();
      await closing;
    },
  };
}
