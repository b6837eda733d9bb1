import type { StackApi } from './stack-api.ts';

/**
 * Malformed execution inputs, each with what its refusal must say: the field it names and a
 * fragment of what that field allows. Every case must end the execution in `InvalidInputError`
 * before Spectra touches DynamoDB or the Data API.
 */
export interface BadInputCase {
  name: string;
  input: unknown;
  /** The field the message must name, as the message writes it. */
  field: string;
  /** Part of the rule the message must state. */
  allowed: string;
}

const TENANT_RULE = 'lowercase letters, digits and "-", starting with a letter';
const SQL_RULE = 'not blank, at most 102400 bytes';
const PARAMETERS_RULE = 'a list of at most 100 {name, value} objects with unique names';
const NAME_RULE = '1-128 letters, digits or "_"';
const VALUE_RULE = 'a non-empty string of at most 65536 bytes';
const STATEMENT_NAME_RULE = '1-500 characters';
const INPUT_RULE = 'a JSON object with tenantId and sql';
const FIELDS_RULE = 'allowed: tenantId, sql, statements, transaction, parameters, statementName';

const ok = { tenantId: 'acme', sql: 'select 1' };

/** `{a: {a: … 'x' …}}`, `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = 'x';
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

export const BAD_INPUTS: readonly BadInputCase[] = [
  // The input itself
  { name: 'a JSON string', input: 'select 1', field: 'the input', allowed: INPUT_RULE },
  { name: 'an array', input: [ok], field: 'the input', allowed: INPUT_RULE },
  { name: 'a number', input: 42, field: 'the input', allowed: INPUT_RULE },
  { name: 'null', input: null, field: 'the input', allowed: INPUT_RULE },
  { name: 'an empty object', input: {}, field: 'tenantId', allowed: TENANT_RULE },
  // tenantId
  { name: 'tenantId missing', input: { sql: 'select 1' }, field: 'tenantId', allowed: TENANT_RULE },
  {
    name: 'tenantId empty',
    input: { ...ok, tenantId: '' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId a number',
    input: { ...ok, tenantId: 42 },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId null',
    input: { ...ok, tenantId: null },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId with quotes',
    input: { ...ok, tenantId: "acme'; drop table sales; --" },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId with slashes',
    input: { ...ok, tenantId: 'acme/../globex' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId unicode',
    input: { ...ok, tenantId: 'acmé-租户' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId of 200 characters',
    input: { ...ok, tenantId: 'a'.repeat(200) },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId upper case',
    input: { ...ok, tenantId: 'Acme' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId with a trailing newline',
    input: { ...ok, tenantId: 'acme\n' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  {
    name: 'tenantId with "_" (would collide with a "-" tenant as db user)',
    input: { ...ok, tenantId: 'acme_corp' },
    field: 'tenantId',
    allowed: TENANT_RULE,
  },
  // sql
  { name: 'sql missing', input: { tenantId: 'acme' }, field: 'sql', allowed: SQL_RULE },
  { name: 'sql empty', input: { ...ok, sql: '' }, field: 'sql', allowed: SQL_RULE },
  {
    name: 'sql only whitespace',
    input: { ...ok, sql: ' \n\t  ' },
    field: 'sql',
    allowed: SQL_RULE,
  },
  {
    name: 'sql over 100 KB',
    input: { ...ok, sql: `select 1 -- ${'x'.repeat(110_000)}` },
    field: 'sql',
    allowed: SQL_RULE,
  },
  { name: 'sql a number', input: { ...ok, sql: 1 }, field: 'sql', allowed: SQL_RULE },
  { name: 'sql a list', input: { ...ok, sql: ['select 1'] }, field: 'sql', allowed: SQL_RULE },
  {
    name: 'sql deeply nested JSON',
    input: { ...ok, sql: nested(400) },
    field: 'sql',
    allowed: SQL_RULE,
  },
  // Unknown keys
  {
    name: 'an unknown key',
    input: { ...ok, region: 'eu' },
    field: '"region"',
    allowed: FIELDS_RULE,
  },
  {
    name: 'keys that differ only in case',
    input: { ...ok, TenantId: 'globex', SQL: 'select 2' },
    field: '"TenantId"',
    allowed: FIELDS_RULE,
  },
  {
    name: 'a deeply nested unknown key',
    input: { ...ok, extra: nested(400) },
    field: '"extra"',
    allowed: FIELDS_RULE,
  },
  // parameters
  {
    name: 'parameters an object',
    input: { ...ok, parameters: { region: 'eu' } },
    field: 'parameters',
    allowed: PARAMETERS_RULE,
  },
  {
    name: 'parameters null',
    input: { ...ok, parameters: null },
    field: 'parameters',
    allowed: PARAMETERS_RULE,
  },
  {
    name: 'a parameter given as a string',
    input: { ...ok, parameters: ['region=eu'] },
    field: 'parameters[0]',
    allowed: 'an object {name, value}',
  },
  {
    name: 'a parameter name with "-"',
    input: { ...ok, parameters: [{ name: 'the-region', value: 'eu' }] },
    field: 'parameters[0].name',
    allowed: NAME_RULE,
  },
  {
    name: 'a parameter name empty',
    input: { ...ok, parameters: [{ name: '', value: 'eu' }] },
    field: 'parameters[0].name',
    allowed: NAME_RULE,
  },
  {
    name: 'a parameter name missing',
    input: { ...ok, parameters: [{ value: 'eu' }] },
    field: 'parameters[0].name',
    allowed: NAME_RULE,
  },
  {
    name: 'a parameter value empty',
    input: { ...ok, parameters: [{ name: 'region', value: '' }] },
    field: 'parameters[0].value',
    allowed: VALUE_RULE,
  },
  {
    name: 'a parameter value a number',
    input: { ...ok, parameters: [{ name: 'limit', value: 10 }] },
    field: 'parameters[0].value',
    allowed: VALUE_RULE,
  },
  {
    name: 'a parameter with an unknown key',
    input: { ...ok, parameters: [{ name: 'region', value: 'eu', type: 'varchar' }] },
    field: 'parameters[0]',
    allowed: 'allowed: name, value',
  },
  {
    name: 'duplicate parameter names',
    input: {
      ...ok,
      parameters: [
        { name: 'region', value: 'eu' },
        { name: 'region', value: 'us' },
      ],
    },
    field: 'parameters',
    allowed: PARAMETERS_RULE,
  },
  {
    name: 'huge JSON: 3000 parameters',
    input: {
      ...ok,
      parameters: Array.from({ length: 3000 }, (_, i) => ({ name: `p${i}`, value: `v${i}` })),
    },
    field: 'parameters',
    allowed: PARAMETERS_RULE,
  },
  // statementName
  {
    name: 'statementName empty',
    input: { ...ok, statementName: '' },
    field: 'statementName',
    allowed: STATEMENT_NAME_RULE,
  },
  {
    name: 'statementName over 500 characters',
    input: { ...ok, statementName: 'n'.repeat(501) },
    field: 'statementName',
    allowed: STATEMENT_NAME_RULE,
  },
  {
    name: 'statementName a number',
    input: { ...ok, statementName: 7 },
    field: 'statementName',
    allowed: STATEMENT_NAME_RULE,
  },
];

export interface BadInputResult {
  name: string;
  status: string;
  error: string | undefined;
  message: string;
  namesField: boolean;
  statesAllowed: boolean;
  /** DynamoDB and Data API requests made while this execution ran; both must be 0. */
  dynamoDbCalls: number;
  dataApiCalls: number;
  holds: boolean;
}

function callsWithPrefix(
  before: Record<string, number>,
  after: Record<string, number>,
  prefix: string,
) {
  return Object.entries(after)
    .filter(([target]) => target.startsWith(prefix))
    .reduce((sum, [target, n]) => sum + n - (before[target] ?? 0), 0);
}

/**
 * Runs one case through StartExecution and reads how it ended. Cases must run one at a time on
 * a quiet stack: the DynamoDB and Data API counts are the endpoint's, before and after.
 */
export async function runBadInput(
  api: StackApi,
  badInput: BadInputCase,
  executionName: string,
): Promise<BadInputResult> {
  const before = await api.counters();
  const arn = await api.start(executionName, badInput.input);
  const ended = await api.waitForEnd(arn, Date.now() + 60_000, 25);
  const after = await api.counters();
  const message =
    typeof ended.cause?.message === 'string' ? ended.cause.message : (ended.causeText ?? '');
  const result = {
    name: badInput.name,
    status: ended.status,
    error: ended.error,
    message,
    namesField: message.includes(badInput.field),
    statesAllowed: message.includes(badInput.allowed),
    dynamoDbCalls: callsWithPrefix(before.calls, after.calls, 'DynamoDB_20120810.'),
    dataApiCalls: callsWithPrefix(before.calls, after.calls, 'RedshiftData.'),
  };
  return {
    ...result,
    holds:
      result.status === 'FAILED' &&
      result.error === 'InvalidInputError' &&
      result.namesField &&
      result.statesAllowed &&
      result.dynamoDbCalls === 0 &&
      result.dataApiCalls === 0,
  };
}
