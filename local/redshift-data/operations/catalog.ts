import type { ZodType } from 'zod';
import { checkDatabase, resolveTarget } from '../connection-target.ts';
import { LOCAL_DATABASE } from '../model.ts';
import { DEFAULT_PAGE_SIZE, type PageRequest, page } from '../paging.ts';
import {
  type ConnectionRequest,
  describeTableRequest,
  listDatabasesRequest,
  listSchemasRequest,
  listTablesRequest,
  parseRequest,
} from '../requests.ts';
import { type CatalogColumn, columnMetadataOf, compact } from '../result-format.ts';
import type { EngineColumn, EngineConnection, SqlEngine } from '../sql-engine.ts';
import type { Operations } from './context.ts';

/**
 * Every read of PostgreSQL's catalog (pg_catalog) the emulator makes: ListDatabases, ListSchemas,
 * ListTables and DescribeTable, and the column details (schema, table, nullability, precision) a
 * statement's result metadata carries.
 */

/** Schemas no Data API user lists: TOAST storage and other sessions' temporary schemas. */
const HIDDEN_SCHEMAS = `n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/** The catalog's columns of the tables a result reads from (`$1`: an array of table OIDs). */
const CATALOG_COLUMNS_SQL = `
SELECT c.oid::text, n.nspname, c.relname, a.attname, a.atttypmod::text, a.attnotnull::text
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`;

const catalogKey = (tableOid: number, columnName: string) => `${tableOid}:${columnName}`;

/** Reads the rows of {@link CATALOG_COLUMNS_SQL}, keyed by `<table oid>:<column>`. */
function catalogColumnsFrom(rows: (string | null)[][]): Map<string, CatalogColumn> {
  const columns = new Map<string, CatalogColumn>();
  for (const [oid, schemaName, tableName, columnName, typeModifier, notNull] of rows) {
    columns.set(catalogKey(Number(oid), columnName ?? ''), {
      schemaName: schemaName ?? '',
      tableName: tableName ?? '',
      typeModifier: Number(typeModifier ?? -1),
      notNull: notNull === 'true',
    });
  }
  return columns;
}

/** The OIDs of the tables a result's columns come from, as a PostgreSQL array literal. */
function tableOidsOf(columns: EngineColumn[]): string | undefined {
  const oids = [...new Set(columns.map((c) => c.tableOid).filter((oid) => oid > 0))];
  return oids.length > 0 ? `{${oids.join(',')}}` : undefined;
}

/**
 * What the catalog says about each table column of a result. Read on the statement's own
 * connection: it can see its temporary tables, and inside a transaction it does not wait for the
 * transaction to end. A column it cannot tell about (computed, or the lookup failed) has none.
 */
export async function columnCatalogOf(
  connection: EngineConnection,
  columns: EngineColumn[],
): Promise<(column: EngineColumn) => CatalogColumn | undefined> {
  const tableOids = tableOidsOf(columns);
  const catalog = tableOids
    ? await connection
        .run(CATALOG_COLUMNS_SQL, [tableOids])
        .then((result) => catalogColumnsFrom(result.rows))
        .catch(() => new Map<string, CatalogColumn>())
    : new Map<string, CatalogColumn>();
  return (column) => catalog.get(catalogKey(column.tableOid, column.name));
}

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

/** A catalog operation's request, its connection fields checked as a statement's would be. */
function catalogRequest<T extends ConnectionRequest & { ConnectedDatabase?: string }>(
  schema: ZodType<T>,
  input: Record<string, unknown>,
): T {
  const request = parseRequest(schema, input);
  resolveTarget(request);
  if (request.ConnectedDatabase !== undefined) checkDatabase(request.ConnectedDatabase);
  return request;
}

/** The page of a catalog list the request asks for, as the response's `member` and NextToken. */
function listPage<T>(member: string, items: T[], scope: string, request: PageRequest) {
  const listed = page(items, scope, request, DEFAULT_PAGE_SIZE.others);
  return compact({ [member]: listed.items, NextToken: listed.NextToken });
}

export function catalogOperations(engine: SqlEngine): Operations {
  return {
    async ListDatabases(input) {
      const request = catalogRequest(listDatabasesRequest, input);
      return listPage('Databases', [LOCAL_DATABASE], 'databases', request);
    },

    async ListSchemas(input) {
      const request = catalogRequest(listSchemasRequest, input);
      const result = await engine.admin(
        `SELECT n.nspname FROM pg_catalog.pg_namespace AS n
         WHERE n.nspname LIKE $1 AND ${HIDDEN_SCHEMAS} ORDER BY 1`,
        [request.SchemaPattern ?? '%'],
      );
      const schemas = result.rows.map(([schema]) => schema ?? '');
      return listPage('Schemas', schemas, 'schemas', request);
    },

    async ListTables(input) {
      const request = catalogRequest(listTablesRequest, input);
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
      return listPage('Tables', tables, 'tables', request);
    },

    async DescribeTable(input) {
      const request = catalogRequest(describeTableRequest, input);
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
      const tableNames = new Set(columns.map((column) => column.tableName));
      return compact({
        TableName: request.Table ?? (tableNames.size === 1 ? [...tableNames][0] : undefined),
        ...listPage('ColumnList', columns, 'columns', request),
      });
    },
  };
}
