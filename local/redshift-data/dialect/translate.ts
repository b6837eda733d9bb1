import { createTableRewrite } from './create-table.ts';
import { Rewriter } from './rewriter.ts';
import { mergeRemoveDuplicates, settingStatement } from './statement-rewrites.ts';
import { parseTree, scan, type Token } from './tokens.ts';
import { checkDerivedTableAliases } from './tree-checks.ts';

/**
 * Redshift's SQL, translated statement by statement into PostgreSQL's for the local engines
 * (PGlite, PostgreSQL 15+), with the functions PostgreSQL lacks and the catalog views in
 * `redshift-shims.sql`.
 *
 * Why it is built this way. The candidates were measured on the 1,394 SQL examples of the
 * Amazon Redshift Database Developer Guide's reference pages and on the Redshift-only constructs
 * (DISTKEY, SORTKEY, ENCODE, IDENTITY(seed, step), VARCHAR(MAX), TOP, QUALIFY, LISTAGG ... WITHIN
 * GROUP, APPROXIMATE, MERGE ... REMOVE DUPLICATES):
 *
 * | parser                          | guide examples parsed | Redshift-only constructs parsed |
 * | ------------------------------- | --------------------- | ------------------------------- |
 * | libpg-query 18 (PostgreSQL's)   | 1186 (96 ms)          | LISTAGG WITHIN GROUP only       |
 * | sql-parser-cst 0.42 (postgres)  | 1129 (812 ms)         | none but PartiQL `[0].x`        |
 * | pgsql-ast-parser 12             | 1045 (1039 ms)        | LISTAGG WITHIN GROUP only       |
 * | node-sql-parser 5.4 (redshift)  | 985 (563 ms)          | none                            |
 *
 * No parser knows Redshift's own syntax, node-sql-parser's "redshift" dialect included, and the
 * ones that print SQL back from a tree reformat it (which moves every position an engine error
 * reports). So the translator uses PostgreSQL's own lexer from libpg-query (the best-kept of them:
 * it is PostgreSQL's grammar compiled to WASM) to split the statement into tokens, and rewrites
 * only the tokens of the Redshift constructs, in place: text outside them, comments, literals and
 * the Data API's placeholders (already `$n` when the translator sees them) stay exactly as the
 * caller wrote them. PostgreSQL's parser then checks the result where Redshift is stricter than
 * PostgreSQL 16+ (a derived table needs an alias).
 *
 * Nothing is changed silently: what cannot be translated fails with {@link TranslationError},
 * worded as Redshift words the error, or saying that the construct is not emulated locally.
 */

export interface Translation {
  /** The statement for the engine. */
  sql: string;
  /**
   * Statements to run after it, in the same connection, when it succeeded: what the engine keeps
   * in place of Redshift's table attributes (DISTKEY, SORTKEY, ENCODE), for the catalog views.
   */
  followUps: string[];
  /** Columns the translation adds at the end of the result, which the caller must drop (QUALIFY). */
  hiddenColumns: number;
}

/**
 * Translates one statement (its `:name` placeholders already bound as `$n`).
 *
 * @throws {TranslationError} for what has no local equivalent.
 */
export function translateStatement(sql: string): Translation {
  let tokens: Token[];
  try {
    tokens = scan(sql);
  } catch {
    // Text the lexer cannot read (an unterminated literal): the engine reports it as Redshift does.
    return { sql, followUps: [], hiddenColumns: 0 };
  }
  let count = tokens.length;
  while (count > 0 && tokens[count - 1]?.text === ';') count--;
  if (count === 0) return { sql, followUps: [], hiddenColumns: 0 };
  const rewriter = new Rewriter(sql, tokens);
  const prefix = sql.slice(0, tokens[0]?.start ?? 0);
  const translated =
    settingStatement(rewriter, count) ??
    mergeRemoveDuplicates(rewriter, count) ??
    createTableRewrite(rewriter, count) ??
    rewriter.emitQuery(0, count, false);
  const text = `${prefix}${translated}`;
  const tree = parseTree(text);
  if (tree) checkDerivedTableAliases(tree);
  return { sql: text, followUps: rewriter.followUps, hiddenColumns: rewriter.hiddenColumns };
}
