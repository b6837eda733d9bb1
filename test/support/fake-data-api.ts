import { randomUUID } from 'node:crypto';
import {
  ActiveSessionsExceededException,
  type ColumnMetadata,
  DescribeStatementCommand,
  type DescribeStatementCommandInput,
  type DescribeStatementCommandOutput,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type ExecuteStatementCommandOutput,
  type Field,
  GetStatementResultCommand,
  type GetStatementResultCommandInput,
  type GetStatementResultCommandOutput,
  type RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/**
 * A stateful stand-in for the Data API at the SDK level, for tests that run the functions without
 * the local stack. It keeps the rules Spectra depends on: one statement per session at a time,
 * `Session is not available` for busy or expired sessions, reuse without connection fields, and
 * ClientToken idempotency. How a statement behaves is scripted per SQL text.
 */

export interface ScriptedStatement {
  /** DescribeStatement calls before the statement ends; 0 ends it inside ExecuteStatement. */
  pollsUntilDone?: number;
  columns?: ColumnMetadata[];
  records?: Field[][];
  /** The engine's error text; the statement ends FAILED. */
  error?: string;
  aborted?: boolean;
  /** Rows affected, for a statement without a result set. */
  rowsAffected?: number;
}

interface FakeStatement {
  id: string;
  sql: string;
  dbUser: string;
  sessionId: string | undefined;
  script: ScriptedStatement;
  pollsLeft: number;
  createdAt: Date;
}

interface FakeSession {
  id: string;
  dbUser: string;
  runningStatementId: string | undefined;
  closed: boolean;
}

const meta = { $metadata: {} };

export class FakeDataApi {
  readonly sessions = new Map<string, FakeSession>();
  readonly statements = new Map<string, FakeStatement>();
  readonly executeInputs: ExecuteStatementCommandInput[] = [];
  /** Statements sent to a session that was running another one. */
  busyRejections = 0;
  /** How many statements actually ran (a ClientToken replay does not count). */
  statementsRun = 0;
  maxSessions = 500;
  pageSize = 2;
  private readonly tokens = new Map<string, string>();

  constructor(private readonly script: (sql: string) => ScriptedStatement = () => ({})) {}

  install(mock: AwsClientStub<RedshiftDataClient>): void {
    mock
      .on(ExecuteStatementCommand)
      .callsFake((input: ExecuteStatementCommandInput) => this.execute(input));
    mock
      .on(DescribeStatementCommand)
      .callsFake((input: DescribeStatementCommandInput) => this.describe(input));
    mock
      .on(GetStatementResultCommand)
      .callsFake((input: GetStatementResultCommandInput) => this.result(input));
  }

  /** Closes a session behind Spectra's back, as the Data API does when it reclaims one. */
  expireSession(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session) session.closed = true;
  }

  openSessionIds(): string[] {
    return [...this.sessions.values()].filter((s) => !s.closed).map((s) => s.id);
  }

  execute(input: ExecuteStatementCommandInput): ExecuteStatementCommandOutput {
    this.executeInputs.push(input);
    const replayed = input.ClientToken ? this.tokens.get(input.ClientToken) : undefined;
    if (replayed) return this.executeOutput(this.statements.get(replayed) as FakeStatement);

    let session: FakeSession | undefined;
    if (input.SessionId) {
      if (
        input.ClusterIdentifier ||
        input.WorkgroupName ||
        input.Database ||
        input.DbUser ||
        input.SecretArn
      ) {
        throw new ValidationException({
          message: 'SessionId cannot be used with connection parameters',
          ...meta,
        });
      }
      session = this.sessions.get(input.SessionId);
      if (!session)
        throw new ValidationException({
          message: `Session with Id: ${input.SessionId} is invalid`,
          ...meta,
        });
      if (session.closed)
        throw new ValidationException({ message: 'Session is not available', ...meta });
      if (session.runningStatementId) {
        this.busyRejections++;
        throw new ValidationException({ message: 'Session is not available', ...meta });
      }
    } else {
      if (!input.ClusterIdentifier && !input.WorkgroupName) {
        throw new ValidationException({
          message: 'Either ClusterIdentifier or WorkgroupName needs to be specified.',
          ...meta,
        });
      }
      if (input.SessionKeepAliveSeconds) {
        if (this.openSessionIds().length >= this.maxSessions) {
          throw new ActiveSessionsExceededException({
            message: 'Active sessions exceeded the limit',
            ...meta,
          });
        }
        session = {
          id: randomUUID(),
          dbUser: input.DbUser ?? '',
          runningStatementId: undefined,
          closed: false,
        };
        this.sessions.set(session.id, session);
      }
    }
    const script = this.script(input.Sql ?? '');
    const statement: FakeStatement = {
      id: randomUUID(),
      sql: input.Sql ?? '',
      dbUser: session?.dbUser ?? input.DbUser ?? '',
      sessionId: session?.id,
      script,
      pollsLeft: script.pollsUntilDone ?? 0,
      createdAt: new Date(),
    };
    this.statements.set(statement.id, statement);
    if (input.ClientToken) this.tokens.set(input.ClientToken, statement.id);
    this.statementsRun++;
    if (session) session.runningStatementId = statement.id;
    this.settle(statement);
    return this.executeOutput(statement);
  }

  describe(input: DescribeStatementCommandInput): DescribeStatementCommandOutput {
    const statement = this.find(input.Id);
    if (statement.pollsLeft > 0) statement.pollsLeft--;
    this.settle(statement);
    const status = this.statusOf(statement);
    return {
      Id: statement.id,
      Status: status,
      SessionId: statement.sessionId,
      QueryString: statement.sql,
      HasResultSet: status === 'FINISHED' ? statement.script.records !== undefined : undefined,
      ResultRows:
        status === 'FINISHED'
          ? (statement.script.records?.length ?? statement.script.rowsAffected ?? -1)
          : -1,
      Error: status === 'FAILED' ? statement.script.error : undefined,
      CreatedAt: statement.createdAt,
      UpdatedAt: new Date(),
      ...meta,
    };
  }

  result(input: GetStatementResultCommandInput): GetStatementResultCommandOutput {
    const statement = this.find(input.Id);
    const records = statement.script.records ?? [];
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const end = start + this.pageSize;
    return {
      Records: records.slice(start, end),
      ColumnMetadata: statement.script.columns ?? [],
      TotalNumRows: records.length,
      NextToken: end < records.length ? String(end) : undefined,
      ...meta,
    };
  }

  private find(id: string | undefined): FakeStatement {
    const statement = id ? this.statements.get(id) : undefined;
    if (!statement)
      throw new ResourceNotFoundException({
        message: 'Query does not exist.',
        Message: 'Query does not exist.',
        ResourceId: id ?? '',
        ...meta,
      });
    return statement;
  }

  private statusOf(statement: FakeStatement) {
    if (statement.pollsLeft > 0) return 'STARTED' as const;
    if (statement.script.aborted) return 'ABORTED' as const;
    return statement.script.error ? ('FAILED' as const) : ('FINISHED' as const);
  }

  /** A statement that has ended frees its session. */
  private settle(statement: FakeStatement): void {
    if (statement.pollsLeft > 0 || statement.sessionId === undefined) return;
    const session = this.sessions.get(statement.sessionId);
    if (session?.runningStatementId === statement.id) session.runningStatementId = undefined;
  }

  private executeOutput(statement: FakeStatement): ExecuteStatementCommandOutput {
    const status = this.statusOf(statement);
    return {
      Id: statement.id,
      SessionId: statement.sessionId,
      DbUser: statement.dbUser,
      CreatedAt: statement.createdAt,
      Status: status,
      HasResultSet: status === 'FINISHED' ? statement.script.records !== undefined : undefined,
      ...meta,
    };
  }
}

/** Column metadata as the Data API reports it, for scripted results. */
export function column(name: string, typeName: string): ColumnMetadata {
  return { name, label: name, typeName };
}
