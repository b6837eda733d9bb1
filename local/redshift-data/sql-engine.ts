/**
 * Where the Redshift Data API emulator runs SQL. Two engines implement this: PGlite in a worker
 * thread (embedded, the default) and a PostgreSQL server (`SPECTRA_LOCAL_DATABASE_URL`).
 *
 * Values come back as PostgreSQL's text output plus each column's type OID, so that both engines
 * produce the same Data API `Field`s and the same `ColumnMetadata` from one mapping.
 */

export interface EngineColumn {
  name: string;
  /** PostgreSQL type OID (23 int4, 20 int8, 1700 numeric, 25 text, 1184 timestamptz, ...). */
  typeOid: number;
  /** OID of the table the column comes from, 0 when computed. */
  tableOid: number;
}

export interface EngineResult {
  /** Empty when the statement returns no rows (INSERT, CREATE, SET, ...). */
  columns: EngineColumn[];
  /** One array per row, each value PostgreSQL's text form or null. */
  rows: (string | null)[][];
  /** Rows returned, or rows affected for INSERT/UPDATE/DELETE/COPY; -1 when neither applies. */
  rowCount: number;
  /** The command tag's verb: SELECT, INSERT, CREATE, ... */
  command: string;
  hasResultSet: boolean;
}

/** A SQL error, with the SQLSTATE the engine reported. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/**
 * One database session. A Data API session maps to one connection: temporary tables and `SET`
 * stay in it. Statements on one connection never overlap (the emulator runs one at a time).
 */
export interface EngineConnection {
  /** Backend process id, reported as `RedshiftPid`. */
  readonly backendPid: number;
  /**
   * Runs one statement as the connection's database user. `parameters` are bound to `$1..$n` as
   * untyped text, which PostgreSQL casts as Redshift does.
   */
  run(sql: string, parameters: string[]): Promise<EngineResult>;
  /** Runs a script of several statements (a batch), each committed as the engine does. */
  runScript?(sql: string): Promise<void>;
  /** Asks the engine to stop the running statement; false if it cannot (PGlite). */
  cancel(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SqlEngine {
  readonly kind: 'pglite' | 'postgres';
  /**
   * A connection that runs statements as `dbUser`. The role is created on first use (with the
   * grants the demo schema gives every tenant), so grants and row-level security apply.
   */
  connect(dbUser: string): Promise<EngineConnection>;
  /** Runs SQL as the superuser: demo data, catalog queries. */
  admin(sql: string, parameters?: string[]): Promise<EngineResult>;
  close(): Promise<void>;
}
