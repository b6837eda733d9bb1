import { notEmulated, TranslationError } from './errors.ts';

/**
 * Checks on PostgreSQL's parse tree of a translated statement, where Redshift is stricter than
 * PostgreSQL 16+ or where PostgreSQL would read Redshift's syntax with another meaning.
 */

/** The alias a FROM item is known by (a table's name when it has none). */
function fromItemName(item: Record<string, unknown>): string | undefined {
  const range = item.RangeVar as Record<string, unknown> | undefined;
  if (!range) return undefined;
  const alias = range.alias as { aliasname?: string } | undefined;
  return alias?.aliasname ?? (range.relname as string | undefined);
}

/**
 * PartiQL's unnesting, `FROM t AS c, c.array AS o`: PostgreSQL reads `c.array` as a table of
 * schema `c` and would report that it does not exist.
 */
function checkPartiqlUnnesting(select: Record<string, unknown>): void {
  const from = (select.fromClause as Record<string, unknown>[] | undefined) ?? [];
  const names = new Set<string>();
  for (const item of from) {
    const range = item.RangeVar as Record<string, unknown> | undefined;
    if (range?.schemaname && names.has(range.schemaname as string))
      throw notEmulated('PartiQL unnesting of a SUPER array in FROM (FROM t AS c, c.array)');
    const name = fromItemName(item);
    if (name) names.add(name);
  }
}

/** Redshift refuses a derived table without an alias; PostgreSQL 16+ takes it. */
export function checkDerivedTableAliases(tree: unknown): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.SelectStmt) checkPartiqlUnnesting(record.SelectStmt as Record<string, unknown>);
    const subselect = record.RangeSubselect as Record<string, unknown> | undefined;
    if (subselect && !subselect.alias && !subselect.lateral)
      throw new TranslationError('ERROR: subquery in FROM must have an alias', '42601');
    for (const value of Object.values(record)) visit(value);
  };
  visit(tree);
}
