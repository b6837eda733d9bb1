/**
 * What the emulator changes in a statement's text before the engine sees it: the Data API's
 * `:name` placeholders become PostgreSQL's `$n`, and the bare date part of `DATEADD(day, ...)` is
 * quoted so the shim function can take it.
 *
 * Hand-written because no installed library knows where PostgreSQL's strings, quoted
 * identifiers, dollar quotes and comments begin and end, and placeholders there must stay text.
 * The scan only splits the SQL into code and non-code; it does not parse it.
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

const IDENTIFIER_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Splits SQL into code and the parts where nothing is substituted: literals and comments. */
export function splitSql(sql: string): Segment[] {
  const segments: Segment[] = [];
  let codeStart = 0;
  let index = 0;
  const pushNonCode = (start: number, end: number) => {
    if (start > codeStart) segments.push({ code: true, text: sql.slice(codeStart, start) });
    segments.push({ code: false, text: sql.slice(start, end) });
    codeStart = end;
  };
  while (index < sql.length) {
    const char = sql[index];
    const next = sql[index + 1];
    const previous = index > 0 ? (sql[index - 1] ?? '') : '';
    if (char === "'") {
      // E'...' strings take backslash escapes; plain ones only double the quote.
      const escapes = /[eE]/.test(previous) && !IDENTIFIER_CHAR.test(sql[index - 2] ?? '');
      const end = endOfQuoted(sql, index, "'", escapes);
      pushNonCode(escapes ? index - 1 : index, end);
      index = end;
    } else if (char === '"') {
      const end = endOfQuoted(sql, index, '"', false);
      pushNonCode(index, end);
      index = end;
    } else if (char === '-' && next === '-') {
      const newline = sql.indexOf('\n', index);
      const end = newline < 0 ? sql.length : newline;
      pushNonCode(index, end);
      index = end;
    } else if (char === '/' && next === '*') {
      const end = endOfBlockComment(sql, index);
      pushNonCode(index, end);
      index = end;
    } else if (char === '$' && !IDENTIFIER_CHAR.test(previous)) {
      // $tag$ ... $tag$ (the tag may be empty); `$1` is a positional parameter, not a quote.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index));
      if (tag) {
        const close = sql.indexOf(tag[0], index + tag[0].length);
        const end = close < 0 ? sql.length : close + tag[0].length;
        pushNonCode(index, end);
        index = end;
      } else {
        index++;
      }
    } else {
      index++;
    }
  }
  if (codeStart < sql.length) segments.push({ code: true, text: sql.slice(codeStart) });
  return segments;
}

function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean) {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslashEscapes && char === '\\') {
      index += 2;
    } else if (char === quote) {
      if (sql[index + 1] === quote) index += 2;
      else return index + 1;
    } else {
      index++;
    }
  }
  return sql.length;
}

/** PostgreSQL's block comments nest. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth++;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth--;
      index += 2;
      if (depth === 0) return index;
    } else {
      index++;
    }
  }
  return sql.length;
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
 * `::` is a cast. A `:name` right after a letter, digit, `_`, `]` or `)` is not a placeholder
 * either (an array slice such as `a[1:n]`).
 */
const PLACEHOLDER = /::|(?<![A-Za-z0-9_\])]):([0-9A-Za-z_]+)/g;

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
      code = code.replace(PLACEHOLDER, (whole, name: string | undefined) => {
        if (name === undefined) return whole;
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

/** Statements that open, end or mark transactions themselves. */
const TRANSACTION_CONTROL = new Set([
  'ABORT',
  'BEGIN',
  'COMMIT',
  'END',
  'PREPARE',
  'RELEASE',
  'ROLLBACK',
  'SAVEPOINT',
  'START',
]);

/**
 * Whether a statement controls transactions (BEGIN, COMMIT, SAVEPOINT, ...), judged by its first
 * keyword outside comments. Such a statement cannot be wrapped in a transaction of the engine's.
 */
export function isTransactionControl(sql: string): boolean {
  const code = splitSql(sql)
    .filter((segment) => segment.code)
    .map((segment) => segment.text)
    .join(' ');
  const keyword = /^[\s;(]*([A-Za-z]+)/.exec(code)?.[1]?.toUpperCase();
  return keyword !== undefined && TRANSACTION_CONTROL.has(keyword);
}
