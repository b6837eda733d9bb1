import type { EngineConnection, EngineResult, RunOptions } from '../sql-engine.ts';
import { EngineError } from '../sql-engine.ts';
import type { BoundSql } from '../sql-text.ts';
import { TranslationError } from './errors.ts';
import { loadSqlScanner } from './tokens.ts';
import { translateStatement } from './translate.ts';

/**
 * The emulator's one hook into the statement path: a statement in Redshift's SQL runs on the
 * engine as its PostgreSQL translation, and its result comes back as Redshift would give it.
 */

/** Loads the translator's SQL scanner; the emulator awaits it before it runs any statement. */
export const loadRedshiftDialect = loadSqlScanner;

/** SQLSTATE 428C9: a value given for a column whose values are generated (IDENTITY). */
const GENERATED_ALWAYS = '428C9';

/** Engine errors Redshift words differently. */
function asRedshiftWordsIt(error: unknown): unknown {
  if (error instanceof EngineError && error.sqlState === GENERATED_ALWAYS)
    return new EngineError('ERROR: cannot set an identity column to a value', error.sqlState);
  return error;
}

/** PostgreSQL's types of SUPER values: jsonb (and json). */
const JSON_TYPE_OIDS = new Set([114, 3802]);

/** A SUPER value's text as Redshift writes it: no spaces after `,` and `:` outside strings. */
export function compactJson(text: string): string {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (inString) {
      out += char;
      if (char === '\\') {
        out += text[index + 1] ?? '';
        index++;
      } else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char !== ' ' && char !== '\n') {
      out += char;
    }
  }
  return out;
}

/** Redshift's form of the values PostgreSQL writes otherwise (SUPER's JSON text). */
function asRedshiftWritesThem(result: EngineResult): EngineResult {
  const json = result.columns.map((column) => JSON_TYPE_OIDS.has(column.typeOid));
  if (!json.includes(true)) return result;
  return {
    ...result,
    rows: result.rows.map((row) =>
      row.map((value, index) => (value !== null && json[index] ? compactJson(value) : value)),
    ),
  };
}

function withoutHiddenColumns(result: EngineResult, hidden: number): EngineResult {
  if (hidden === 0 || result.columns.length < hidden) return result;
  const keep = result.columns.length - hidden;
  return {
    ...result,
    columns: result.columns.slice(0, keep),
    rows: result.rows.map((row) => row.slice(0, keep)),
  };
}

/**
 * Runs one bound statement (`$n` placeholders) in Redshift's dialect on `connection`.
 *
 * @throws {EngineError} with SQLSTATE 42601 or 0A000 for what has no local equivalent, or as
 *   the engine fails it.
 */
export async function runRedshiftStatement(
  connection: EngineConnection,
  bound: BoundSql,
  options: RunOptions,
): Promise<EngineResult> {
  let translation: ReturnType<typeof translateStatement>;
  try {
    translation = translateStatement(bound.text);
  } catch (error) {
    if (error instanceof TranslationError) throw new EngineError(error.message, error.sqlState);
    throw error;
  }
  const result = await connection
    .run(translation.sql, bound.values, options)
    .catch((error: unknown) => {
      throw asRedshiftWordsIt(error);
    });
  // What the catalog views show of the table's layout; the table exists whatever happens here.
  for (const followUp of translation.followUps)
    await connection.run(followUp, []).catch(() => undefined);
  return asRedshiftWritesThem(withoutHiddenColumns(result, translation.hiddenColumns));
}
