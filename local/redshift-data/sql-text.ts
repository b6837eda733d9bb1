import { classifyTokens } from '../../functions/common/sql-statements.ts';
import {
  isCode,
  mapPlaceholders,
  POSTGRESQL_LEXING,
  tokenize,
} from '../../functions/common/sql-tokens.ts';

/**
 * What the emulator changes in a statement's text before the engine sees it: the Data API's
 * `:name` placeholders become PostgreSQL's `$n`, and the bare date part of `DATEADD(day, ...)` is
 * quoted so the shim function can take it.
 *
 * Where literals, comments and placeholders are comes from the functions' SQL reader
 * (functions/common/sql-tokens.ts and sql-statements.ts), so that the emulator binds exactly the
 * placeholders that Spectra checks before it submits.
 */

export interface SqlParameter {
  name: string;
  value: string;
}

/** A statement ready for the engine: `$n` placeholders and their values in order. */
export interface BoundSql {
  text: string;
  values: string[];
  /** The parameter names the statement used. */
  used: Set<string>;
}

/** A placeholder the parameters do not supply; the emulator answers it with a ValidationException. */
export class PlaceholderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaceholderError';
  }
}

interface Segment {
  code: boolean;
  text: string;
}

/**
 * Splits SQL into code and the parts where nothing is substituted (literals, quoted identifiers,
 * comments), by the tokenizer the functions classify statements with, reading strings as the
 * engines (PostgreSQL 15+, PGlite) do.
 */
export function splitSql(sql: string): Segment[] {
  const segments: Segment[] = [];
  for (const token of tokenize(sql, POSTGRESQL_LEXING)) {
    const code = isCode(token);
    const last = segments.at(-1);
    if (code && last?.code) last.text += sql.slice(token.start, token.end);
    else segments.push({ code, text: sql.slice(token.start, token.end) });
  }
  return segments;
}

/** The date parts Redshift takes unquoted in DATEADD/DATEDIFF, as the shims spell them. */
const DATE_PARTS = new Set(
  (
    'millennium millennia mil mils century centuries c cent cents decade decades dec decs ' +
    'year years y yr yrs quarter quarters qtr qtrs month months mon mons week weeks w ' +
    'day days d hour hours h hr hrs minute minutes m min mins second seconds s sec secs ' +
    'millisecond milliseconds ms msec msecs msecond mseconds millisec millisecs ' +
    'microsecond microseconds us usec usecs microsec microsecs usecond useconds'
  ).split(' '),
);

const BARE_DATE_PART = /\b(dateadd|datediff)(\s*\(\s*)([A-Za-z]+)(\s*,)/gi;

/**
 * Rewrites a statement for the engine. With `parameters`, every `:name` outside literals and
 * comments becomes `$n` (one number per name, in order of first use) and must name a parameter;
 * without them the text keeps its colons, as the Data API passes such SQL through unchanged.
 *
 * @throws {PlaceholderError} for a placeholder that names no parameter.
 */
export function bindSql(sql: string, parameters: SqlParameter[] | undefined): BoundSql {
  const valuesByName = new Map((parameters ?? []).map((p) => [p.name, p.value]));
  const numbers = new Map<string, number>();
  const values: string[] = [];
  const text = splitSql(sql)
    .map((segment) => {
      if (!segment.code) return segment.text;
      let code = segment.text.replace(
        BARE_DATE_PART,
        (whole, name: string, open: string, part: string, comma: string) =>
          DATE_PARTS.has(part.toLowerCase()) ? `${name}${open}'${part}'${comma}` : whole,
      );
      if (parameters === undefined) return code;
      code = mapPlaceholders(code, (name) => {
        const value = valuesByName.get(name);
        if (value === undefined) {
          throw new PlaceholderError(
            `The SQL refers to :${name}, but no parameter is named ${name}. Add it to Parameters or remove the placeholder.`,
          );
        }
        let number = numbers.get(name);
        if (number === undefined) {
          values.push(value);
          number = values.length;
          numbers.set(name, number);
        }
        return `$${number}`;
      });
      return code;
    })
    .join('');
  return { text, values, used: new Set(numbers.keys()) };
}

/**
 * Whether a statement controls transactions (BEGIN, COMMIT, SAVEPOINT, ...), as the functions'
 * classifier reads it. Such a statement cannot be wrapped in a transaction of the engine's.
 */
export function isTransactionControl(sql: string): boolean {
  return classifyTokens(tokenize(sql, POSTGRESQL_LEXING)).kind === 'transaction-control';
}
