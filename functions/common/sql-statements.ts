import {
  isCode,
  type LexOptions,
  POSTGRESQL_LEXING,
  REDSHIFT_LEXING,
  type Token,
  tokenize,
} from './sql-tokens.ts';

/**
 * Reads a tenant's SQL as Redshift reads it, far enough to tell what each statement does to the
 * session it runs on: splits a script into statements, finds the Data API's `:name` placeholders,
 * and classifies each statement as transaction control, a session-state change, or neither.
 * The functions use it to keep pooled sessions clean, the CLI to split a script for `--batch`, and
 * the local Data API emulator to keep its sessions apart. It works on the tokens of
 * sql-tokens.ts, which says why that lexer is hand-written.
 *
 * Redshift and the local engines lex backslashes in strings differently (sql-tokens.ts), so
 * classification reads the SQL both ways and keeps the stricter answer.
 */

/** One statement of a script: its text, without the `;` that ends it, and its tokens. */
export interface SqlStatement {
  text: string;
  tokens: Token[];
}

/**
 * Splits a script at the `;` outside literals, comments and parentheses. Statements that hold
 * nothing but whitespace and comments are left out.
 */
export function splitStatements(
  sql: string,
  options: LexOptions = REDSHIFT_LEXING,
): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current: Token[] = [];
  let depth = 0;
  const close = () => {
    if (current.some((token) => token.kind !== 'whitespace' && token.kind !== 'comment')) {
      const first = current[0] as Token;
      const last = current.at(-1) as Token;
      statements.push({ text: sql.slice(first.start, last.end).trim(), tokens: current });
    }
    current = [];
  };
  for (const token of tokenize(sql, options)) {
    if (token.kind === 'symbol' && token.text === '(') depth++;
    else if (token.kind === 'symbol' && token.text === ')') depth = Math.max(0, depth - 1);
    if (token.kind === 'symbol' && token.text === ';' && depth === 0) close();
    else current.push(token);
  }
  close();
  return statements;
}

/** The names of the `:name` placeholders in SQL, outside literals, comments and `::` casts. */
export function placeholderNames(sql: string, options: LexOptions = REDSHIFT_LEXING): Set<string> {
  return new Set(
    tokenize(sql, options)
      .filter((token) => token.kind === 'placeholder')
      .map((token) => token.text),
  );
}

/**
 * What a statement does to its session:
 * - `transaction-control` opens, ends or marks a transaction (BEGIN, START TRANSACTION, COMMIT,
 *   END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION);
 * - `session-state` leaves something in the session for the next statement: a setting (SET,
 *   RESET, `set_config`), another identity (SET SESSION AUTHORIZATION, SET ROLE), a temporary
 *   table (`CREATE TEMP TABLE`, `CREATE TABLE #t`, `SELECT ... INTO TEMP`), a cursor, a prepared
 *   statement, a session lock, or procedural code whose effects the text does not show (CALL, DO);
 * - `other`: nothing that outlives the statement.
 */
export type StatementKind = 'transaction-control' | 'session-state' | 'other';

export interface StatementClass {
  kind: StatementKind;
  /** The command as its first keywords name it, upper-cased: `BEGIN`, `SET`, `CREATE TEMP TABLE`. */
  command: string;
  /** For `SET SESSION AUTHORIZATION` and `SET ROLE`: the user or role asked for, or `DEFAULT`. */
  identity?: string;
}

const TRANSACTION_KEYWORDS = new Set([
  'ABORT',
  'BEGIN',
  'COMMIT',
  'END',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
]);

/** Statements whose first keyword alone says they leave state in the session. */
const SESSION_KEYWORDS = new Set([
  'RESET',
  'DECLARE',
  'DEALLOCATE',
  'DISCARD',
  'LISTEN',
  'UNLISTEN',
  'LOAD',
  'CLOSE',
  // Procedural code: a procedure or DO block can SET, create temporary tables or change the
  // user, and the text does not show it (RDS Proxy documents the same blind spot).
  'CALL',
  'DO',
]);

/** Functions whose call changes the session beyond the statement. */
const SESSION_FUNCTIONS = new Set([
  'set_config',
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
]);

const upper = (token: Token | undefined) =>
  token?.kind === 'word' ? token.text.toUpperCase() : '';

/** The name a token stands for: unquoted names fold to lower case, quoted ones keep theirs. */
function nameOf(token: Token | undefined): string | undefined {
  if (!token) return undefined;
  if (token.kind === 'word') return token.text.toLowerCase();
  if (token.kind === 'quoted-identifier') return token.text.slice(1, -1).replaceAll('""', '"');
  if (token.kind === 'string') return token.text.slice(1, -1).replaceAll("''", "'");
  return undefined;
}

function classifySet(words: Token[]): StatementClass {
  const second = upper(words[1]);
  const third = upper(words[2]);
  if (second === 'LOCAL' || second === 'TRANSACTION')
    // Lasts until the transaction ends, which a single statement's does with it.
    return { kind: 'other', command: `SET ${second}` };
  if (second === 'SESSION' && third === 'AUTHORIZATION') {
    const target = upper(words[3]) === 'DEFAULT' ? 'DEFAULT' : nameOf(words[3]);
    return { kind: 'session-state', command: 'SET SESSION AUTHORIZATION', identity: target };
  }
  if (second === 'ROLE') {
    const target = upper(words[2]) === 'NONE' ? 'DEFAULT' : nameOf(words[2]);
    return { kind: 'session-state', command: 'SET ROLE', identity: target };
  }
  return { kind: 'session-state', command: 'SET' };
}

function classifyReset(words: Token[]): StatementClass {
  const second = upper(words[1]);
  if (second === 'SESSION' && upper(words[2]) === 'AUTHORIZATION')
    return { kind: 'session-state', command: 'RESET SESSION AUTHORIZATION', identity: 'DEFAULT' };
  if (second === 'ROLE')
    return { kind: 'session-state', command: 'RESET ROLE', identity: 'DEFAULT' };
  return { kind: 'session-state', command: 'RESET' };
}

/** `CREATE [OR REPLACE] [GLOBAL | LOCAL] TEMP[ORARY] ...` or `CREATE TABLE [IF NOT EXISTS] #t`. */
function createsTemporary(words: Token[]): string | undefined {
  let at = 1;
  if (upper(words[at]) === 'OR' && upper(words[at + 1]) === 'REPLACE') at += 2;
  if (upper(words[at]) === 'GLOBAL' || upper(words[at]) === 'LOCAL') at++;
  const marker = upper(words[at]);
  if (marker === 'TEMP' || marker === 'TEMPORARY')
    return `CREATE TEMP ${upper(words[at + 1]) || 'TABLE'}`;
  if (upper(words[at]) !== 'TABLE') return undefined;
  at++;
  if (upper(words[at]) === 'IF' && upper(words[at + 1]) === 'NOT') at += 3;
  return words[at]?.text.startsWith('#') ? 'CREATE TABLE #' : undefined;
}

/** `SELECT ... INTO [TEMP | TEMPORARY | LOCAL TEMP] t` or `INTO #t`, at the top level. */
function selectsIntoTemporary(code: Token[]): boolean {
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const token = code[i] as Token;
    if (token.text === '(') depth++;
    else if (token.text === ')') depth--;
    else if (depth === 0 && upper(token) === 'INTO') {
      let next = i + 1;
      if (['LOCAL', 'GLOBAL'].includes(upper(code[next]))) next++;
      const target = code[next];
      return ['TEMP', 'TEMPORARY'].includes(upper(target)) || !!target?.text.startsWith('#');
    }
  }
  return false;
}

function callsSessionFunction(code: Token[]): string | undefined {
  for (let i = 0; i < code.length - 1; i++) {
    const token = code[i] as Token;
    if (token.kind === 'word' && code[i + 1]?.text === '(') {
      const name = token.text.toLowerCase();
      if (SESSION_FUNCTIONS.has(name)) return name;
    }
  }
  return undefined;
}

/** Classifies one statement from its tokens (see {@link StatementKind}). */
export function classifyTokens(tokens: Token[]): StatementClass {
  // Literals stay in `meaningful` (a SET's value, a user name in quotes), not in `code`.
  const meaningful = tokens.filter(
    (token) => token.kind !== 'whitespace' && token.kind !== 'comment',
  );
  const code = meaningful.filter(isCode);
  // A statement may start with parentheses: `(select ...)`.
  let first = 0;
  while (code[first]?.text === '(') first++;
  let words = meaningful
    .slice(meaningful.indexOf(code[first] as Token))
    .filter((token) => token.kind !== 'symbol' || token.text !== '(');
  // EXPLAIN ANALYZE runs the statement it explains: classify that one.
  if (upper(words[0]) === 'EXPLAIN') {
    const inner = words.findIndex(
      (token, i) =>
        i > 0 && token.kind === 'word' && !['ANALYZE', 'ANALYSE', 'VERBOSE'].includes(upper(token)),
    );
    if (inner > 0) words = words.slice(inner);
  }
  const keyword = upper(words[0]);
  if (keyword === 'START' && upper(words[1]) === 'TRANSACTION')
    return { kind: 'transaction-control', command: 'START TRANSACTION' };
  if (keyword === 'PREPARE' && upper(words[1]) === 'TRANSACTION')
    return { kind: 'transaction-control', command: 'PREPARE TRANSACTION' };
  if (TRANSACTION_KEYWORDS.has(keyword)) return { kind: 'transaction-control', command: keyword };
  if (keyword === 'SET') return classifySet(words);
  if (keyword === 'RESET') return classifyReset(words);
  if (keyword === 'PREPARE') return { kind: 'session-state', command: 'PREPARE' };
  if (SESSION_KEYWORDS.has(keyword)) return { kind: 'session-state', command: keyword };
  if (keyword === 'CREATE') {
    const temporary = createsTemporary(words);
    if (temporary) return { kind: 'session-state', command: temporary };
  }
  if ((keyword === 'SELECT' || keyword === 'WITH') && selectsIntoTemporary(code.slice(first)))
    return { kind: 'session-state', command: 'SELECT INTO TEMP' };
  const called = callsSessionFunction(code);
  if (called) return { kind: 'session-state', command: `${keyword} ${called}()` };
  return { kind: 'other', command: keyword };
}

export interface ClassifiedStatement extends StatementClass {
  /** Position in the script, from 0. */
  index: number;
  text: string;
}

export interface SqlClassification {
  statements: ClassifiedStatement[];
  /** Some statement is transaction control, read either way ({@link LexOptions}). */
  transactionControl: ClassifiedStatement[];
  /** Some statement leaves state in the session, read either way. */
  sessionState: ClassifiedStatement[];
}

function classifyWith(sql: string, options: LexOptions): ClassifiedStatement[] {
  return splitStatements(sql, options).map((statement, index) => ({
    index,
    text: statement.text,
    ...classifyTokens(statement.tokens),
  }));
}

/**
 * Classifies every statement of a script. When Redshift and PostgreSQL would split it differently
 * (a backslash before a quote in a plain string), the statements are Redshift's and the findings
 * are those of both readings, so that an ambiguity makes the answer stricter, never looser.
 */
export function classifySql(sql: string): SqlClassification {
  const statements = classifyWith(sql, REDSHIFT_LEXING);
  const readings = sql.includes('\\')
    ? [statements, classifyWith(sql, POSTGRESQL_LEXING)]
    : [statements];
  const found = (kind: StatementKind) => {
    const all = readings.flatMap((reading) => reading.filter((each) => each.kind === kind));
    const seen = new Set<string>();
    return all.filter((each) => {
      const key = `${each.index}:${each.command}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
  return {
    statements,
    transactionControl: found('transaction-control'),
    sessionState: found('session-state'),
  };
}

/**
 * The error text with which Redshift (and PostgreSQL) answer every statement of a session whose
 * transaction failed, until a ROLLBACK; SQLSTATE 25P02. The Data API reports it as a FAILED
 * statement whose `Error` is this text after `ERROR: `.
 */
export const FAILED_TRANSACTION_MESSAGE =
  'current transaction is aborted, commands ignored until end of transaction block';

export const isFailedTransactionError = (error: string | undefined): boolean =>
  error?.includes(FAILED_TRANSACTION_MESSAGE) === true;
