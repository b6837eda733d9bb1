import { randomUUID } from 'node:crypto';
import { type AwsJsonService, AwsServiceError } from '../aws-json.ts';
import {
  createTenantUser,
  demoTenantUsers,
  loadDemoData,
  loadRedshiftShims,
  type TenantUser,
} from './demo-data.ts';
import {
  type BatchExecuteStatementRequest,
  batchExecuteStatementRequest,
  type ConnectionRequest,
  cancelStatementRequest,
  describeStatementRequest,
  describeTableRequest,
  type ExecuteStatementRequest,
  executeStatementRequest,
  getStatementResultRequest,
  listDatabasesRequest,
  listSchemasRequest,
  listSessionsRequest,
  listStatementsRequest,
  listTablesRequest,
  parseRequest,
  validationError,
} from './requests.ts';
import {
  CATALOG_COLUMNS_SQL,
  type CatalogColumn,
  type ColumnMetadata,
  catalogColumnsFrom,
  catalogKey,
  columnMetadataOf,
  csvLine,
  fieldOf,
  resultSizeOf,
  tableOidsOf,
} from './result-format.ts';
import {
  checkDbUser,
  type EngineColumn,
  type EngineConnection,
  EngineError,
  type SqlEngine,
  UNKNOWN_USER_SQLSTATE,
} from './sql-engine.ts';
import { type BoundSql, bindSql, PlaceholderError, type SqlParameter } from './sql-text.ts';

/**
 * The Redshift Data API, emulated over a {@link SqlEngine}: the twelve operations, statement
 * lifecycle, sessions, ClientToken idempotency and long polling as `reference/redshift-data-api.md`
 * describes the real service. Any ClusterIdentifier or WorkgroupName names the one local
 * warehouse; its one database is `dev`.
 *
 * Where the real service is undocumented or cannot be copied, this is what the emulator does
 * (test/local/data-api-suite.ts pins each of these down):
 * - A `SecretArn` runs as the db user named by the secret: the last `/` part of the secret name,
 *   without AWS's `-XXXXXX` suffix, lower-cased (`...:secret:spectra/acme-AbC123` → `acme`);
 *   `secret_user` when the ARN has no secret name. DbUser and SecretArn together are refused.
 * - A WorkgroupName without DbUser or SecretArn runs as `iamr_local`, standing for the user
 *   Redshift Serverless derives from the caller's IAM role (`IAMR:<role>`); like that user, it is
 *   created on first use.
 * - Database users exist as on a cluster: the demo tenants' from the start, others once created
 *   ({@link RedshiftDataEmulator.createTenantUser}); the engine's superuser and roles that cannot
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
 * - Error texts the reference does not quote (SQL too long, parameter mistakes, SessionId with
 *   connection fields, the session limit) are the emulator's own wording.
 * - ListStatements lists FINISHED statements unless `Status` says otherwise, as documented.
 * - No limit on active statements or waiting requests, no EventBridge events (`WithEvent`), no
 *   IAM: any credentials work and RoleLevel is ignored.
 *
 * Time: timestamps, keep-alive and ClientToken windows follow the injectable `clock`; long polling
 * (`WaitTimeSeconds`) waits in real time.
 */

export interface RedshiftDataEmulatorOptions {
  engine: SqlEngine;
  /** Open sessions allowed before ActiveSessionsExceededException; the service's limit is 500. */
  maxSessions?: number;
  /** Rows per GetStatementResult(V2) page. */
  resultPageRows?: number;
  /** Milliseconds since the epoch; tests move it to expire sessions and tokens. */
  clock?: () => number;
  /** Loads the TICKIT-style demo tables at start (they replace earlier ones). Default true. */
  loadDemoData?: boolean;
  /** How the demo tenants' users are named (`SPECTRA_DB_USER_TEMPLATE`); see demoTenantUsers. */
  dbUserTemplate?: string;
}

export interface RedshiftDataEmulatorStats {
  /** Statements accepted by ExecuteStatement and BatchExecuteStatement (token retries excluded). */
  statementsSubmitted: number;
  sessionsOpened: number;
  /** Statements refused because their session was running another one. */
  busyRejections: number;
  /** Statements that would have opened a session, refused with ActiveSessionsExceededException. */
  sessionLimitRejections: number;
  /** Sessions not closed. */
  activeSessions: number;
}

export interface RedshiftDataEmulator extends AwsJsonService {
  /**
   * Closes a session now, as the service does when it reclaims one: its next use gets `Session is
   * not available`, and a statement running on it ends FAILED. False when the id is unknown or
   * the session was closed already.
   */
  expireSession(sessionId: string): boolean;
  /** Delay added when a statement opens a new session (default 0). */
  setSessionOpenLatency(milliseconds: number): void;
  stats(): RedshiftDataEmulatorStats;
  /** The ids of the sessions that are not closed. */
  listSessionIds(): string[];
  /**
   * Creates a tenant's database user with the demo grants, whose row-level security shows it the
   * tenant's rows. Idempotent; true when it created the user.
   */
  createTenantUser(user: TenantUser): Promise<boolean>;
  /** Ends every session and pending long poll. The engine stays open: it belongs to the caller. */
  close(): Promise<void>;
}

type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';
type SessionStatus = 'AVAILABLE' | 'BUSY' | 'CLOSED';
type ResultFormat = 'JSON' | 'CSV';
type ExecutionMode = 'TRANSACTION' | 'AUTO_COMMIT';

const TERMINAL: ReadonlySet<StatementStatus> = new Set(['FINISHED', 'FAILED', 'ABORTED']);

const LOCAL_DATABASE = 'dev';

/** The database user a Serverless statement with IAM credentials runs as, locally. */
const SERVERLESS_IAM_DB_USER = 'iamr_local';
const SQL_MAX_BYTES = 100 * 1024;
const HOUR_MS = 60 * 60 * 1000;
/** A session is closed 24 h after it was opened, whatever its keep-alive. */
const SESSION_MAX_LIFETIME_MS = 24 * HOUR_MS;
const CLIENT_TOKEN_LIFETIME_MS = 8 * HOUR_MS;
/** Statements and their results are kept for 24 h, as the service keeps results. */
const STATEMENT_RETENTION_MS = 24 * HOUR_MS;
const DEFAULT_LIST_STATEMENTS = 100;
const DEFAULT_LIST_OTHERS = 1000;

/** Where a statement runs and as whom. */
interface ConnectionTarget {
  dbUser: string;
  database: string;
  clusterIdentifier?: string;
  workgroupName?: string;
  secretArn?: string;
}

interface StoredResult {
  columns: EngineColumn[];
  metadata: ColumnMetadata[];
  rows: (string | null)[][];
}

/** One SQL text of a statement: a plain statement has one, a batch one per `Sqls` entry. */
interface Part {
  id: string;
  sql: string;
  bound: BoundSql;
  status: StatementStatus;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  /** 0 until it starts, as the service shows it. */
  queryId: number;
  queryUuid?: string;
  hasResultSet: boolean;
  resultRows: number;
  resultSize: number;
  result?: StoredResult;
}

interface Statement {
  id: string;
  isBatch: boolean;
  parts: Part[];
  status: StatementStatus;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  target: ConnectionTarget;
  sessionId?: string;
  statementName?: string;
  parameters?: SqlParameter[];
  resultFormat: ResultFormat;
  executionMode?: ExecutionMode;
  redshiftPid: number;
  /** Resolved when the statement reaches a terminal status, to end long polls. */
  waiters: Set<() => void>;
  /** The connection it runs on, while it runs; CancelStatement asks it to stop. */
  running?: EngineConnection;
  /**
   * A cancel or a session close that came while the engine could no longer undo the statement
   * (it was committing): the statement then ends as it really ends, and this says what to report
   * should it still be stopped before it commits.
   */
  stopRequested?: { status: 'ABORTED' | 'FAILED'; error?: string };
  /** The engine was told to commit it: from then on it ends FINISHED (or fails on its own). */
  committing?: boolean;
}

interface Session {
  id: string;
  target: ConnectionTarget;
  createdAt: number;
  updatedAt: number;
  keepAliveSeconds: number;
  /** When the last statement ended (or the session was opened): the keep-alive counts from it. */
  idleSince: number;
  status: SessionStatus;
  currentStatementId?: string;
  closedAt?: number;
  /** Opened by the first statement; every later statement runs on the same connection. */
  connection?: Promise<EngineConnection>;
}

/** A statement refused before it was created; the message is the caller's to read. */
const sessionNotAvailable = () => validationError('Session is not available');

function queryNotFound(id: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', 'Query does not exist.', 404, {
    ResourceId: id,
  });
}

const seconds = (milliseconds: number) => milliseconds / 1000;

/** Drops undefined members, so the response carries only what is known. */
function compact<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** The text of an engine failure, worded as Redshift words it (`ERROR: ...`). */
function engineMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /^(ERROR|FATAL|PANIC):/.test(message) ? message : `ERROR: ${message}`;
}

/** The db user a secret stands for (see the module comment). */
export function dbUserFromSecretArn(secretArn: string): string {
  const secretName = /:secret:([^:]+)$/.exec(secretArn)?.[1];
  if (!secretName) return 'secret_user';
  const withoutSuffix = secretName.replace(/-[A-Za-z0-9]{6}$/, '');
  const lastPart = withoutSuffix.split('/').at(-1) ?? '';
  const user = lastPart.toLowerCase().replace(/[^a-z0-9_$]/g, '_');
  if (user === '') return 'secret_user';
  return /^[0-9$]/.test(user) ? `_${user}`.slice(0, 127) : user.slice(0, 127);
}

/** Opaque page tokens: the list they page and the offset of the next page. */
function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ scope, offset })).toString('base64url');
}

function decodeToken(scope: string, token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      'scope' in decoded &&
      'offset' in decoded &&
      decoded.scope === scope &&
      Number.isInteger(decoded.offset) &&
      (decoded.offset as number) >= 0
    )
      return decoded.offset as number;
  } catch {
    // Falls through to the refusal below.
  }
  throw validationError('The NextToken is not valid for this request.');
}

function page<T>(
  items: T[],
  scope: string,
  nextToken: string | undefined,
  maxResults: number | undefined,
  defaultSize: number,
): { items: T[]; NextToken?: string } {
  const offset = decodeToken(scope, nextToken);
  const size = maxResults && maxResults > 0 ? maxResults : defaultSize;
  const end = offset + size;
  return end < items.length
    ? { items: items.slice(offset, end), NextToken: encodeToken(scope, end) }
    : { items: items.slice(offset) };
}

export async function createRedshiftDataEmulator(
  options: RedshiftDataEmulatorOptions,
): Promise<RedshiftDataEmulator> {
  const { engine } = options;
  const maxSessions = options.maxSessions ?? 500;
  const resultPageRows = options.resultPageRows ?? 1000;
  const clock = options.clock ?? Date.now;

  await loadRedshiftShims(engine);
  if (options.loadDemoData ?? true)
    await loadDemoData(engine, demoTenantUsers(options.dbUserTemplate));

  const statements = new Map<string, Statement>();
  const sessions = new Map<string, Session>();
  const clientTokens = new Map<string, { statementId: string; expiresAt: number }>();
  /** Connection closes started in the background (expired sessions), awaited by close(). */
  const closing = new Set<Promise<void>>();
  const counters = {
    statementsSubmitted: 0,
    sessionsOpened: 0,
    busyRejections: 0,
    sessionLimitRejections: 0,
  };
  let sessionOpenLatencyMs = 0;
  let nextQueryId = 100_000;
  let closed = false;
  /** Users seen to exist; users are never dropped, so one seen stays. */
  const knownUsers = new Set<string>();

  // ---- Users ----------------------------------------------------------------------------------

  /** Whether the warehouse has this user: a login role that is not the engine's superuser. */
  async function userExists(dbUser: string): Promise<boolean> {
    if (knownUsers.has(dbUser)) return true;
    const found = await engine.admin(
      'SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolcanlogin AND NOT rolsuper',
      [dbUser],
    );
    if (found.rows.length > 0) knownUsers.add(dbUser);
    return found.rows.length > 0;
  }

  /**
   * Connects as the statement's user, or fails as a login to Redshift fails for a user that does
   * not exist (see the module comment).
   */
  async function connectAs(target: ConnectionTarget): Promise<EngineConnection> {
    const { dbUser } = target;
    checkDbUser(dbUser);
    if (!(await userExists(dbUser))) {
      // Redshift Serverless creates the user it derives from an IAM identity at its first login.
      if (dbUser === SERVERLESS_IAM_DB_USER && !target.secretArn) await engine.createUser(dbUser);
      else
        throw new EngineError(
          target.secretArn
            ? `FATAL: password authentication failed for user "${dbUser}"`
            : `FATAL: user "IAM:${dbUser}" does not exist`,
          UNKNOWN_USER_SQLSTATE,
        );
    }
    return engine.connect(dbUser);
  }

  // ---- Sessions -------------------------------------------------------------------------------

  function sessionExpiresAt(session: Session, now: number): number {
    const cap = session.createdAt + SESSION_MAX_LIFETIME_MS;
    // While a statement runs, the keep-alive has not started counting yet.
    const idleEnd =
      session.status === 'BUSY'
        ? now + session.keepAliveSeconds * 1000
        : session.idleSince + session.keepAliveSeconds * 1000;
    return Math.min(cap, idleEnd);
  }

  function closeSession(session: Session, reason: string): void {
    if (session.status === 'CLOSED') return;
    const now = clock();
    session.status = 'CLOSED';
    session.closedAt = now;
    session.updatedAt = now;
    const running = session.currentStatementId
      ? statements.get(session.currentStatementId)
      : undefined;
    session.currentStatementId = undefined;
    if (running && !TERMINAL.has(running.status)) {
      stopStatement(
        running,
        'FAILED',
        `ERROR: The session ${session.id} was closed (${reason}) while the statement was running.`,
      );
    }
    const connection = session.connection;
    if (connection) {
      const done = connection
        .then(async (opened) => {
          await opened.cancel().catch(() => false);
          await opened.close();
        })
        .catch(() => undefined)
        .finally(() => closing.delete(done));
      closing.add(done);
    }
  }

  /** Closes the sessions whose time is up and forgets what is past retention. */
  function sweep(): void {
    const now = clock();
    for (const session of sessions.values()) {
      if (session.status === 'CLOSED') {
        if (now - session.createdAt > SESSION_MAX_LIFETIME_MS) sessions.delete(session.id);
      } else if (now >= session.createdAt + SESSION_MAX_LIFETIME_MS) {
        closeSession(session, 'it reached the 24-hour session limit');
      } else if (session.status === 'AVAILABLE' && now >= sessionExpiresAt(session, now)) {
        closeSession(session, 'its keep-alive expired');
      }
    }
    for (const [token, entry] of clientTokens)
      if (now >= entry.expiresAt) clientTokens.delete(token);
    for (const statement of statements.values()) {
      if (TERMINAL.has(statement.status) && now - statement.createdAt > STATEMENT_RETENTION_MS)
        statements.delete(statement.id);
    }
  }

  function openSessionCount(): number {
    let open = 0;
    for (const session of sessions.values()) if (session.status !== 'CLOSED') open++;
    return open;
  }

  // ---- Statement lifecycle --------------------------------------------------------------------

  function setStatus(statement: Statement, status: StatementStatus): void {
    statement.status = status;
    statement.updatedAt = clock();
    if (status === 'STARTED') statement.startedAt = statement.updatedAt;
  }

  /** Ends a statement (once); its unfinished parts end with it. Wakes its long polls. */
  function finish(statement: Statement, status: StatementStatus, error?: string): void {
    if (TERMINAL.has(statement.status)) return;
    const now = clock();
    statement.status = status;
    statement.updatedAt = now;
    statement.endedAt = now;
    if (error !== undefined) statement.error = error;
    for (const part of statement.parts) {
      if (TERMINAL.has(part.status)) continue;
      // The part that was running shares the statement's end; the ones after it never ran.
      const running = part.status === 'STARTED';
      part.status = running && status === 'FAILED' ? 'FAILED' : 'ABORTED';
      part.updatedAt = now;
      part.endedAt = now;
      if (running && error !== undefined) part.error = error;
    }
    for (const wake of [...statement.waiters]) wake();
  }

  /**
   * Stops a statement that is cancelled or whose session closes, reporting it as it really ends:
   * ABORTED (or FAILED) now when it has not started, or when the engine can still keep it from
   * committing (the engine then undoes it: see RunOptions.commitIf); otherwise it is left to end
   * on its own, FINISHED if it commits, so that no status contradicts the data. Its session stays
   * BUSY until the engine is done with it. True when it was stopped.
   */
  function stopStatement(
    statement: Statement,
    status: 'ABORTED' | 'FAILED',
    error?: string,
  ): boolean {
    statement.stopRequested ??= { status, error };
    if (statement.committing || (statement.running && !statement.running.canStop())) return false;
    finish(statement, status, error);
    return true;
  }

  /**
   * A statement's stop request, read fresh: a stop can arrive while the engine runs the statement,
   * which a check made before that (and TypeScript's narrowing of it) does not see.
   */
  function stopRequestOf(statement: Statement): Statement['stopRequested'] {
    return statement.stopRequested;
  }

  /** Holds the caller until the statement ends or `waitSeconds` pass. */
  async function waitForEnd(statement: Statement, waitSeconds: number | undefined) {
    if (!waitSeconds || TERMINAL.has(statement.status) || closed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        statement.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitSeconds * 1000);
      statement.waiters.add(done);
    });
  }

  /** Runs one part; true when it finished, false when it failed or the statement ended. */
  async function runPart(
    statement: Statement,
    part: Part,
    connection: EngineConnection,
  ): Promise<boolean> {
    if (TERMINAL.has(statement.status)) return false;
    if (statement.stopRequested) {
      // Stopped while an earlier step of it (a batch's BEGIN) could not be: it stops here.
      finish(statement, statement.stopRequested.status, statement.stopRequested.error);
      return false;
    }
    const startedAt = clock();
    Object.assign(part, {
      status: 'STARTED',
      startedAt,
      updatedAt: startedAt,
      queryId: nextQueryId++,
      queryUuid: randomUUID(),
    });
    try {
      // The engine commits the statement only if it has not been stopped meanwhile.
      const result = await connection.run(part.bound.text, part.bound.values, {
        commitIf: () => {
          if (TERMINAL.has(statement.status)) return false;
          // A batch's parts commit with the batch, whose own COMMIT the engine cannot undo.
          if (!statement.isBatch) statement.committing = true;
          return true;
        },
      });
      let catalog = new Map<string, CatalogColumn>();
      const tableOids = result.hasResultSet ? tableOidsOf(result.columns) : undefined;
      if (tableOids && !TERMINAL.has(statement.status)) {
        // On the statement's own connection: it can see its temporary tables, and inside a
        // transaction it does not wait for the transaction to end.
        catalog = await connection
          .run(CATALOG_COLUMNS_SQL, [tableOids])
          .then((rows) => catalogColumnsFrom(rows.rows))
          .catch(() => catalog);
      }
      // Cancelled or its session closed meanwhile: the result is discarded.
      if (TERMINAL.has(statement.status)) return false;
      const endedAt = clock();
      Object.assign(part, {
        status: 'FINISHED',
        updatedAt: endedAt,
        endedAt,
        hasResultSet: result.hasResultSet,
        resultRows: result.rowCount,
        resultSize: result.hasResultSet ? resultSizeOf(result.rows) : -1,
        result: result.hasResultSet
          ? {
              columns: result.columns,
              rows: result.rows,
              metadata: result.columns.map((column) =>
                columnMetadataOf(column, catalog.get(catalogKey(column.tableOid, column.name))),
              ),
            }
          : undefined,
      });
      return true;
    } catch (error) {
      if (TERMINAL.has(statement.status)) return false;
      const endedAt = clock();
      Object.assign(part, {
        status: 'FAILED',
        updatedAt: endedAt,
        endedAt,
        error: engineMessage(error),
      });
      // Stopped when it could not be undone, and then it failed after all (a server's cancel
      // reached it): nothing of it committed, so it ends as the stop said.
      const stop = stopRequestOf(statement);
      if (stop) finish(statement, stop.status, stop.error ?? part.error);
      return false;
    }
  }

  async function runBatch(statement: Statement, connection: EngineConnection): Promise<void> {
    const inTransaction = statement.executionMode !== 'AUTO_COMMIT';
    if (inTransaction) await connection.run('BEGIN', []);
    let failed: Part | undefined;
    for (const part of statement.parts) {
      if (!(await runPart(statement, part, connection))) {
        failed = part;
        break;
      }
    }
    if (inTransaction) {
      if (failed || TERMINAL.has(statement.status)) {
        await connection.run('ROLLBACK', []).catch(() => undefined);
      } else {
        try {
          await connection.run('COMMIT', []);
        } catch (error) {
          finish(statement, 'FAILED', engineMessage(error));
          return;
        }
      }
    }
    if (failed?.status === 'FAILED') finish(statement, 'FAILED', failed.error);
    else finish(statement, 'FINISHED');
  }

  async function execute(statement: Statement, session: Session | undefined): Promise<void> {
    // Let ExecuteStatement answer first, with the statement still SUBMITTED.
    await new Promise((resolve) => setImmediate(resolve));
    let connection: EngineConnection | undefined;
    try {
      if (TERMINAL.has(statement.status)) return;
      setStatus(statement, 'PICKED');
      if (session) {
        session.connection ??= (async () => {
          if (sessionOpenLatencyMs > 0)
            await new Promise((resolve) => setTimeout(resolve, sessionOpenLatencyMs));
          return connectAs(session.target);
        })();
        connection = await session.connection;
      } else {
        connection = await connectAs(statement.target);
      }
      if (TERMINAL.has(statement.status)) return;
      statement.running = connection;
      statement.redshiftPid = connection.backendPid;
      setStatus(statement, 'STARTED');
      if (statement.isBatch) {
        await runBatch(statement, connection);
      } else {
        const [part] = statement.parts;
        if (part && (await runPart(statement, part, connection))) finish(statement, 'FINISHED');
        else finish(statement, 'FAILED', part?.error);
      }
    } catch (error) {
      finish(statement, 'FAILED', engineMessage(error));
      // A session whose connection could not be opened is of no use.
      if (session && !connection) closeSession(session, 'its connection could not be opened');
    } finally {
      statement.running = undefined;
      if (session) {
        if (session.status === 'BUSY' && session.currentStatementId === statement.id) {
          const now = clock();
          Object.assign(session, {
            status: 'AVAILABLE',
            currentStatementId: undefined,
            idleSince: now,
            updatedAt: now,
          });
        }
      } else {
        await connection?.close().catch(() => undefined);
      }
    }
  }

  // ---- Submission -----------------------------------------------------------------------------

  /** The connection of a statement that opens its own (no SessionId). */
  function resolveTarget(request: ConnectionRequest): ConnectionTarget {
    const { ClusterIdentifier, WorkgroupName, DbUser, SecretArn, Database } = request;
    if (ClusterIdentifier && WorkgroupName)
      throw validationError('Specify either ClusterIdentifier or WorkgroupName, not both.');
    if (!ClusterIdentifier && !WorkgroupName)
      throw validationError('Either ClusterIdentifier or WorkgroupName needs to be specified.');
    if (DbUser && SecretArn) throw validationError('Specify either DbUser or SecretArn, not both.');
    // On Serverless, temporary credentials need no DbUser: the service derives the database user
    // from the caller's IAM identity (IAMR:<role>). Locally every caller is the same identity.
    const serverlessIamUser =
      WorkgroupName && !DbUser && !SecretArn ? SERVERLESS_IAM_DB_USER : undefined;
    if (!DbUser && !SecretArn && !serverlessIamUser)
      throw validationError(
        'Either DbUser or SecretArn needs to be specified: the local warehouse runs every statement as a database user.',
      );
    if (!Database)
      throw validationError(
        `Database needs to be specified; the local database is ${LOCAL_DATABASE}.`,
      );
    checkDatabase(Database);
    return compact({
      dbUser: DbUser ?? serverlessIamUser ?? dbUserFromSecretArn(SecretArn ?? ''),
      database: Database,
      clusterIdentifier: ClusterIdentifier,
      workgroupName: WorkgroupName,
      secretArn: SecretArn,
    }) as ConnectionTarget;
  }

  function checkDatabase(database: string): void {
    if (database !== LOCAL_DATABASE)
      throw validationError(
        `Database "${database}" does not exist. The local warehouse has one database: ${LOCAL_DATABASE}.`,
      );
  }

  function checkSqlSize(sql: string, member: string): void {
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > SQL_MAX_BYTES)
      throw validationError(
        `${member} is ${bytes} bytes; a SQL statement can be at most ${SQL_MAX_BYTES} bytes (100 KB).`,
      );
  }

  /** Binds the placeholders of every SQL text; each parameter must be used by one of them. */
  function bindAll(sqls: string[], parameters: SqlParameter[] | undefined): BoundSql[] {
    const names = new Set<string>();
    for (const parameter of parameters ?? []) {
      if (names.has(parameter.name))
        throw validationError(`Parameter ${parameter.name} is given more than once.`);
      names.add(parameter.name);
    }
    let bound: BoundSql[];
    try {
      bound = sqls.map((sql) => bindSql(sql, parameters));
    } catch (error) {
      if (error instanceof PlaceholderError) throw validationError(error.message);
      throw error;
    }
    const used = new Set(bound.flatMap((each) => [...each.used]));
    for (const name of names) {
      if (!used.has(name))
        throw validationError(
          sqls.length === 1
            ? `Parameter ${name} is not used in the SQL statement; remove it or refer to it as :${name}.`
            : `Parameter ${name} is not used in any of the SQL statements; remove it or refer to it as :${name}.`,
        );
    }
    return bound;
  }

  function submissionResponse(statement: Statement) {
    const { target } = statement;
    const ended = TERMINAL.has(statement.status);
    return compact({
      Id: statement.id,
      CreatedAt: seconds(statement.createdAt),
      ClusterIdentifier: target.clusterIdentifier,
      WorkgroupName: target.workgroupName,
      DbUser: target.dbUser,
      Database: target.database,
      SecretArn: target.secretArn,
      SessionId: statement.sessionId,
      Status: statement.status,
      RedshiftPid: statement.redshiftPid > 0 ? statement.redshiftPid : undefined,
      HasResultSet: ended ? statement.parts.some((part) => part.hasResultSet) : undefined,
    });
  }

  /**
   * ExecuteStatement and BatchExecuteStatement. Everything from the token check to the statement's
   * creation is synchronous, so two calls with one ClientToken cannot both create a statement.
   */
  async function submit(
    request: ExecuteStatementRequest | BatchExecuteStatementRequest,
    sqls: string[],
    isBatch: boolean,
  ) {
    sqls.forEach((sql, index) => {
      checkSqlSize(sql, isBatch ? `Sqls[${index + 1}]` : 'Sql');
    });
    let target: ConnectionTarget | undefined;
    if (request.SessionId) {
      const conflicting = (
        ['ClusterIdentifier', 'WorkgroupName', 'Database', 'DbUser', 'SecretArn'] as const
      ).filter((member) => request[member] !== undefined);
      if (conflicting.length > 0)
        throw validationError(
          `SessionId cannot be combined with ${conflicting.join(', ')}: a session keeps the cluster or workgroup, database and user it was opened with. Send only Sql and SessionId (plus statement options).`,
        );
    } else {
      target = resolveTarget(request);
    }
    const bound = bindAll(sqls, request.Parameters);
    sweep();

    if (request.ClientToken) {
      const known = clientTokens.get(request.ClientToken);
      const earlier = known ? statements.get(known.statementId) : undefined;
      if (earlier) {
        await waitForEnd(earlier, request.WaitTimeSeconds);
        return submissionResponse(earlier);
      }
    }

    let session: Session | undefined;
    const now = clock();
    if (request.SessionId) {
      session = sessions.get(request.SessionId);
      if (!session) throw validationError(`Session with Id: ${request.SessionId} is invalid`);
      if (session.status === 'CLOSED') throw sessionNotAvailable();
      if (session.status === 'BUSY') {
        counters.busyRejections++;
        throw sessionNotAvailable();
      }
      target = session.target;
      if (request.SessionKeepAliveSeconds !== undefined && request.SessionKeepAliveSeconds > 0)
        session.keepAliveSeconds = request.SessionKeepAliveSeconds;
    } else if (
      request.SessionKeepAliveSeconds !== undefined &&
      request.SessionKeepAliveSeconds > 0
    ) {
      if (openSessionCount() >= maxSessions) {
        counters.sessionLimitRejections++;
        throw new AwsServiceError(
          'ActiveSessionsExceededException',
          `The number of active sessions has reached the limit of ${maxSessions}. Reuse a session or let one expire.`,
          400,
        );
      }
      session = {
        id: randomUUID(),
        target: target as ConnectionTarget,
        createdAt: now,
        updatedAt: now,
        keepAliveSeconds: request.SessionKeepAliveSeconds,
        idleSince: now,
        status: 'AVAILABLE',
      };
      sessions.set(session.id, session);
      counters.sessionsOpened++;
    }
    if (!target) throw new Error('unreachable: a statement without a connection target');

    const id = randomUUID();
    const statement: Statement = {
      id,
      isBatch,
      parts: sqls.map((sql, index) => ({
        id: isBatch ? `${id}:${index + 1}` : id,
        sql,
        bound: bound[index] as BoundSql,
        status: 'SUBMITTED',
        createdAt: now,
        updatedAt: now,
        queryId: 0,
        hasResultSet: false,
        resultRows: -1,
        resultSize: -1,
      })),
      status: 'SUBMITTED',
      createdAt: now,
      updatedAt: now,
      target,
      sessionId: session?.id,
      statementName: request.StatementName,
      parameters: request.Parameters,
      resultFormat: request.ResultFormat ?? 'JSON',
      executionMode: isBatch
        ? ((request as BatchExecuteStatementRequest).ExecutionMode ?? 'TRANSACTION')
        : undefined,
      redshiftPid: 0,
      waiters: new Set(),
    };
    statements.set(id, statement);
    counters.statementsSubmitted++;
    if (request.ClientToken)
      clientTokens.set(request.ClientToken, {
        statementId: id,
        expiresAt: now + CLIENT_TOKEN_LIFETIME_MS,
      });
    if (session) {
      Object.assign(session, { status: 'BUSY', currentStatementId: id, updatedAt: now });
    }
    void execute(statement, session);

    await waitForEnd(statement, request.WaitTimeSeconds);
    return submissionResponse(statement);
  }

  // ---- Reading statements ---------------------------------------------------------------------

  /** The statement an Id names, and the part when it is a sub-statement id (`<id>:<n>`). */
  function lookUp(id: string): { statement: Statement; part?: Part } {
    const [baseId = '', partNumber] = id.split(':');
    const statement = statements.get(baseId);
    if (!statement) throw queryNotFound(id);
    if (partNumber === undefined) return { statement };
    const part = statement.isBatch ? statement.parts[Number(partNumber) - 1] : undefined;
    if (!part) throw queryNotFound(id);
    return { statement, part };
  }

  const durationNs = (startedAt?: number, endedAt?: number) =>
    startedAt !== undefined && endedAt !== undefined ? (endedAt - startedAt) * 1_000_000 : -1;

  function describePart(part: Part) {
    return compact({
      Id: part.id,
      Duration: durationNs(part.startedAt, part.endedAt),
      Error: part.error,
      Status: part.status,
      CreatedAt: seconds(part.createdAt),
      UpdatedAt: seconds(part.updatedAt),
      QueryString: part.sql,
      ResultRows: part.status === 'FINISHED' ? part.resultRows : -1,
      ResultSize: part.status === 'FINISHED' ? part.resultSize : -1,
      RedshiftQueryId: part.queryId,
      RedshiftQueryUuid: part.queryUuid,
      HasResultSet: part.hasResultSet,
    });
  }

  /** Sums what the parts report; -1 when none reports anything. */
  function total(values: number[]): number {
    const known = values.filter((value) => value >= 0);
    return known.length === 0 ? -1 : known.reduce((sum, value) => sum + value, 0);
  }

  function describe(statement: Statement, part: Part | undefined) {
    const { target } = statement;
    const common = {
      SecretArn: target.secretArn,
      DbUser: target.dbUser,
      Database: target.database,
      ClusterIdentifier: target.clusterIdentifier,
      WorkgroupName: target.workgroupName,
      RedshiftPid: statement.redshiftPid,
      QueryParameters: statement.parameters,
      ResultFormat: statement.resultFormat,
      SessionId: statement.sessionId,
    };
    if (part) return compact({ ...common, ...describePart(part) });
    const single = statement.isBatch ? undefined : statement.parts[0];
    const finished = statement.status === 'FINISHED';
    return compact({
      ...common,
      Id: statement.id,
      Duration: durationNs(statement.startedAt, statement.endedAt),
      Error: statement.error,
      Status: statement.status,
      CreatedAt: seconds(statement.createdAt),
      UpdatedAt: seconds(statement.updatedAt),
      HasResultSet: statement.parts.some((each) => each.hasResultSet),
      QueryString: single?.sql,
      ResultRows: finished ? total(statement.parts.map((each) => each.resultRows)) : -1,
      ResultSize: finished ? total(statement.parts.map((each) => each.resultSize)) : -1,
      RedshiftQueryId: single ? single.queryId : 0,
      RedshiftQueryUuid: single?.queryUuid,
      SubStatements: statement.isBatch ? statement.parts.map(describePart) : undefined,
      ExecutionMode: statement.executionMode,
    });
  }

  /** The part whose result a GetStatementResult(V2) call reads, or the refusal. */
  function resultPart(statement: Statement, part: Part | undefined, format: ResultFormat): Part {
    if (statement.resultFormat !== format) {
      throw validationError(
        format === 'JSON'
          ? 'The statement was run with ResultFormat CSV; read its result with GetStatementResultV2.'
          : 'The statement was run with ResultFormat JSON; read its result with GetStatementResult.',
      );
    }
    const target = part ?? (statement.isBatch ? undefined : statement.parts[0]);
    if (!target) {
      throw validationError(
        `Statement ${statement.id} is a batch: read the result of each SQL statement by its sub-statement Id, ${statement.id}:1 to ${statement.id}:${statement.parts.length}.`,
      );
    }
    if (target.status !== 'FINISHED')
      throw validationError(
        `Query does not have result. The statement is ${target.status}; a result exists once it is FINISHED. Please check query status with DescribeStatement.`,
      );
    if (!target.result)
      throw validationError(
        'Query does not have result. Please check query status with DescribeStatement.',
      );
    return target;
  }

  function resultPage(part: Part, nextToken: string | undefined) {
    const result = part.result as StoredResult;
    const offset = decodeToken(`result:${part.id}`, nextToken);
    const end = offset + resultPageRows;
    return {
      offset,
      rows: result.rows.slice(offset, end),
      metadata: result.metadata,
      total: result.rows.length,
      NextToken: end < result.rows.length ? encodeToken(`result:${part.id}`, end) : undefined,
    };
  }

  function statementData(statement: Statement) {
    return compact({
      Id: statement.id,
      QueryString: statement.isBatch ? undefined : statement.parts[0]?.sql,
      QueryStrings: statement.isBatch ? statement.parts.map((part) => part.sql) : undefined,
      SecretArn: statement.target.secretArn,
      Status: statement.status,
      StatementName: statement.statementName,
      CreatedAt: seconds(statement.createdAt),
      UpdatedAt: seconds(statement.updatedAt),
      QueryParameters: statement.parameters,
      IsBatchStatement: statement.isBatch,
      ResultFormat: statement.resultFormat,
      SessionId: statement.sessionId,
    });
  }

  function sessionData(session: Session, now: number) {
    return compact({
      SessionId: session.id,
      Status: session.status,
      CreatedAt: seconds(session.createdAt),
      UpdatedAt: seconds(session.updatedAt),
      Database: session.target.database,
      DbUser: session.target.dbUser,
      ClusterIdentifier: session.target.clusterIdentifier,
      WorkgroupName: session.target.workgroupName,
      SessionAliveSeconds: session.keepAliveSeconds,
      SessionTtl: seconds(
        session.status === 'CLOSED' ? (session.closedAt ?? now) : sessionExpiresAt(session, now),
      ),
      CurrentStatementId: session.status === 'BUSY' ? session.currentStatementId : undefined,
    });
  }

  // ---- Catalog --------------------------------------------------------------------------------

  function catalogTarget(request: ConnectionRequest & { ConnectedDatabase?: string }) {
    resolveTarget(request);
    if (request.ConnectedDatabase !== undefined) checkDatabase(request.ConnectedDatabase);
  }

  /** Schemas no Data API user lists: TOAST storage and other sessions' temporary schemas. */
  const HIDDEN_SCHEMAS = `n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;
  const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

  function tableType(schema: string, relkind: string): string {
    const system = SYSTEM_SCHEMAS.has(schema) ? 'SYSTEM ' : '';
    switch (relkind) {
      case 'v':
        return `${system}VIEW`;
      case 'm':
        return 'MATERIALIZED VIEW';
      case 'f':
        return 'FOREIGN TABLE';
      default:
        return `${system}TABLE`;
    }
  }

  // ---- Operations -----------------------------------------------------------------------------

  const operations: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    async ExecuteStatement(input) {
      const request = parseRequest(executeStatementRequest, input);
      return submit(request, [request.Sql], false);
    },

    async BatchExecuteStatement(input) {
      const request = parseRequest(batchExecuteStatementRequest, input);
      return submit(request, request.Sqls, true);
    },

    async DescribeStatement(input) {
      const request = parseRequest(describeStatementRequest, input);
      const { statement, part } = lookUp(request.Id);
      await waitForEnd(statement, request.WaitTimeSeconds);
      return describe(statement, part);
    },

    async GetStatementResult(input) {
      const request = parseRequest(getStatementResultRequest, input);
      const { statement, part } = lookUp(request.Id);
      await waitForEnd(statement, request.WaitTimeSeconds);
      const target = resultPart(statement, part, 'JSON');
      const result = resultPage(target, request.NextToken);
      const columns = (target.result as StoredResult).columns;
      return compact({
        Records: result.rows.map((row) =>
          row.map((value, index) => fieldOf(value, columns[index]?.typeOid ?? 25)),
        ),
        ColumnMetadata: result.metadata,
        TotalNumRows: result.total,
        NextToken: result.NextToken,
      });
    },

    async GetStatementResultV2(input) {
      const request = parseRequest(getStatementResultRequest, input);
      const { statement, part } = lookUp(request.Id);
      await waitForEnd(statement, request.WaitTimeSeconds);
      const target = resultPart(statement, part, 'CSV');
      const result = resultPage(target, request.NextToken);
      const lines = result.rows.map(csvLine);
      if (result.offset === 0) lines.unshift(csvLine(result.metadata.map((column) => column.name)));
      return compact({
        Records: lines.length > 0 ? [{ CSVRecords: `${lines.join('\n')}\n` }] : [],
        ColumnMetadata: result.metadata,
        TotalNumRows: result.total,
        ResultFormat: 'CSV',
        NextToken: result.NextToken,
      });
    },

    async CancelStatement(input) {
      const request = parseRequest(cancelStatementRequest, input);
      const { statement } = lookUp(request.Id);
      if (TERMINAL.has(statement.status))
        throw validationError(
          `Could not cancel a query that is already in ${statement.status} state with ID: ${request.Id}`,
        );
      const running = statement.running;
      // ABORTED now unless the engine can no longer undo it (it is committing): then it ends
      // FINISHED, and the cancel did not take.
      const stopped = stopStatement(statement, 'ABORTED');
      // PostgreSQL stops the statement early; PGlite runs it to its end and rolls it back.
      if (running) await running.cancel().catch(() => false);
      return { Status: stopped };
    },

    async ListStatements(input) {
      const request = parseRequest(listStatementsRequest, input);
      const status = request.Status ?? 'FINISHED';
      const matching = [...statements.values()]
        .filter(
          (statement) =>
            (status === 'ALL' || statement.status === status) &&
            (request.StatementName === undefined ||
              (statement.statementName ?? '').startsWith(request.StatementName)) &&
            (request.Database === undefined || statement.target.database === request.Database) &&
            (request.ClusterIdentifier === undefined ||
              statement.target.clusterIdentifier === request.ClusterIdentifier) &&
            (request.WorkgroupName === undefined ||
              statement.target.workgroupName === request.WorkgroupName),
        )
        .reverse();
      const listed = page(
        matching,
        'statements',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_STATEMENTS,
      );
      return compact({ Statements: listed.items.map(statementData), NextToken: listed.NextToken });
    },

    async ListSessions(input) {
      const request = parseRequest(listSessionsRequest, input);
      const now = clock();
      if (request.SessionId !== undefined) {
        const conflicting = (
          ['Status', 'ClusterIdentifier', 'WorkgroupName', 'Database'] as const
        ).filter((member) => request[member] !== undefined);
        if (conflicting.length > 0)
          throw validationError(
            `SessionId cannot be combined with ${conflicting.join(', ')} in ListSessions.`,
          );
        const session = sessions.get(request.SessionId);
        if (!session)
          throw new AwsServiceError(
            'ResourceNotFoundException',
            `Session with Id: ${request.SessionId} does not exist.`,
            404,
            { ResourceId: request.SessionId },
          );
        return { Sessions: [sessionData(session, now)] };
      }
      const statuses: SessionStatus[] = request.Status ? [request.Status] : ['AVAILABLE', 'BUSY'];
      const matching = [...sessions.values()]
        .filter(
          (session) =>
            statuses.includes(session.status) &&
            now - session.createdAt <= SESSION_MAX_LIFETIME_MS &&
            (request.Database === undefined || session.target.database === request.Database) &&
            (request.ClusterIdentifier === undefined ||
              session.target.clusterIdentifier === request.ClusterIdentifier) &&
            (request.WorkgroupName === undefined ||
              session.target.workgroupName === request.WorkgroupName),
        )
        .reverse();
      const listed = page(
        matching,
        'sessions',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_OTHERS,
      );
      return compact({
        Sessions: listed.items.map((session) => sessionData(session, now)),
        NextToken: listed.NextToken,
      });
    },

    async ListDatabases(input) {
      const request = parseRequest(listDatabasesRequest, input);
      catalogTarget(request);
      const listed = page(
        [LOCAL_DATABASE],
        'databases',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_OTHERS,
      );
      return compact({ Databases: listed.items, NextToken: listed.NextToken });
    },

    async ListSchemas(input) {
      const request = parseRequest(listSchemasRequest, input);
      catalogTarget(request);
      const result = await engine.admin(
        `SELECT n.nspname FROM pg_catalog.pg_namespace AS n
         WHERE n.nspname LIKE $1 AND ${HIDDEN_SCHEMAS} ORDER BY 1`,
        [request.SchemaPattern ?? '%'],
      );
      const listed = page(
        result.rows.map(([schema]) => schema ?? ''),
        'schemas',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_OTHERS,
      );
      return compact({ Schemas: listed.items, NextToken: listed.NextToken });
    },

    async ListTables(input) {
      const request = parseRequest(listTablesRequest, input);
      catalogTarget(request);
      const result = await engine.admin(
        `SELECT n.nspname, c.relname, c.relkind::text
         FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname LIKE $1 AND c.relname LIKE $2
           AND ${HIDDEN_SCHEMAS}
         ORDER BY 1, 2`,
        [request.SchemaPattern ?? '%', request.TablePattern ?? '%'],
      );
      const tables = result.rows.map(([schema = '', name = '', relkind = 'r']) => ({
        name: name ?? '',
        type: tableType(schema ?? '', relkind ?? 'r'),
        schema: schema ?? '',
      }));
      const listed = page(
        tables,
        'tables',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_OTHERS,
      );
      return compact({ Tables: listed.items, NextToken: listed.NextToken });
    },

    async DescribeTable(input) {
      const request = parseRequest(describeTableRequest, input);
      catalogTarget(request);
      // '' stands for "any": names are never empty.
      const result = await engine.admin(
        `SELECT n.nspname, c.relname, a.attname, a.atttypid::text, a.atttypmod::text,
                a.attnotnull::text, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
         FROM pg_catalog.pg_attribute AS a
         JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
         JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
           AND ($1 = '' OR n.nspname = $1) AND ($2 = '' OR c.relname = $2) AND ${HIDDEN_SCHEMAS}
         ORDER BY n.nspname, c.relname, a.attnum`,
        [request.Schema ?? '', request.Table ?? ''],
      );
      const columns = result.rows.map(
        ([schemaName, tableName, name, typeOid, typeModifier, notNull, columnDefault]) =>
          columnMetadataOf(
            { name: name ?? '', typeOid: Number(typeOid) },
            {
              schemaName: schemaName ?? '',
              tableName: tableName ?? '',
              typeModifier: Number(typeModifier ?? -1),
              notNull: notNull === 'true',
              columnDefault: columnDefault ?? undefined,
            },
          ),
      );
      const listed = page(
        columns,
        'columns',
        request.NextToken,
        request.MaxResults,
        DEFAULT_LIST_OTHERS,
      );
      const tableNames = new Set(columns.map((column) => column.tableName));
      return compact({
        TableName: request.Table ?? (tableNames.size === 1 ? [...tableNames][0] : undefined),
        ColumnList: listed.items,
        NextToken: listed.NextToken,
      });
    },
  };

  return {
    targetPrefix: 'RedshiftData',
    contentType: 'application/x-amz-json-1.1',

    async handle(operation, input) {
      const run = operations[operation];
      if (!run)
        throw new AwsServiceError(
          'UnknownOperationException',
          `RedshiftData has no operation ${operation}`,
        );
      if (closed)
        throw new AwsServiceError('InternalServerException', 'The emulator is closed', 500);
      sweep();
      return run(input);
    },

    expireSession(sessionId) {
      const session = sessions.get(sessionId);
      if (!session || session.status === 'CLOSED') return false;
      closeSession(session, 'it was expired by the test controls');
      return true;
    },

    createTenantUser: (user) => createTenantUser(engine, user),

    setSessionOpenLatency(milliseconds) {
      sessionOpenLatencyMs = Math.max(0, milliseconds);
    },

    stats() {
      sweep();
      return { ...counters, activeSessions: openSessionCount() };
    },

    listSessionIds() {
      sweep();
      return [...sessions.values()]
        .filter((session) => session.status !== 'CLOSED')
        .map((session) => session.id);
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const session of sessions.values()) closeSession(session, 'the emulator stopped');
      for (const statement of statements.values())
        for (const wake of [...statement.waiters]) wake();
      await Promise.all([...closing]);
    },
  };
}
