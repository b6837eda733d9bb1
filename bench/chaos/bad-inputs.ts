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

/** Cases refused for one reason: each input's message must name `field` and state `allowed`. */
function refusedFor(
  field: string,
  allowed: string,
  inputsByName: Record<string, unknown>,
): BadInputCase[] {
  return Object.entries(inputsByName).map(([name, input]) => ({ name, input, field, allowed }));
}

export const BAD_INPUTS: readonly BadInputCase[] = [
  ...refusedFor('the input', INPUT_RULE, {
    'a JSON string': 'select 1',
    'an array': [ok],
    'a number': 42,
    null: null,
  }),
  ...refusedFor('tenantId', TENANT_RULE, {
    'an empty object': {},
    'tenantId missing': { sql: 'select 1' },
    'tenantId empty': { ...ok, tenantId: '' },
    'tenantId a number': { ...ok, tenantId: 42 },
    'tenantId null': { ...ok, tenantId: null },
    'tenantId with quotes': { ...ok, tenantId: "acme'; drop table sales; --" },
    'tenantId with slashes': { ...ok, tenantId: 'acme/../globex' },
    'tenantId unicode': { ...ok, tenantId: 'acmé-租户' },
    'tenantId of 200 characters': { ...ok, tenantId: 'a'.repeat(200) },
    'tenantId upper case': { ...ok, tenantId: 'Acme' },
    'tenantId with a trailing newline': { ...ok, tenantId: 'acme\n' },
    'tenantId with "_" (would collide with a "-" tenant as db user)': {
      ...ok,
      tenantId: 'acme_corp',
    },
  }),
  ...refusedFor('sql', SQL_RULE, {
    'sql missing': { tenantId: 'acme' },
    'sql empty': { ...ok, sql: '' },
    'sql only whitespace': { ...ok, sql: ' \n\t  ' },
    'sql over 100 KB': { ...ok, sql: `select 1 -- ${'x'.repeat(110_000)}` },
    'sql a number': { ...ok, sql: 1 },
    'sql a list': { ...ok, sql: ['select 1'] },
    'sql deeply nested JSON': { ...ok, sql: nested(400) },
  }),
  // Unknown keys: the message names the key it met first.
  ...refusedFor('"region"', FIELDS_RULE, { 'an unknown key': { ...ok, region: 'eu' } }),
  ...refusedFor('"TenantId"', FIELDS_RULE, {
    'keys that differ only in case': { ...ok, TenantId: 'globex', SQL: 'select 2' },
  }),
  ...refusedFor('"extra"', FIELDS_RULE, {
    'a deeply nested unknown key': { ...ok, extra: nested(400) },
  }),
  ...refusedFor('parameters', PARAMETERS_RULE, {
    'parameters an object': { ...ok, parameters: { region: 'eu' } },
    'parameters null': { ...ok, parameters: null },
  }),
  ...refusedFor('parameters[0]', 'an object {name, value}', {
    'a parameter given as a string': { ...ok, parameters: ['region=eu'] },
  }),
  ...refusedFor('parameters[0].name', NAME_RULE, {
    'a parameter name with "-"': { ...ok, parameters: [{ name: 'the-region', value: 'eu' }] },
    'a parameter name empty': { ...ok, parameters: [{ name: '', value: 'eu' }] },
    'a parameter name missing': { ...ok, parameters: [{ value: 'eu' }] },
  }),
  ...refusedFor('parameters[0].value', VALUE_RULE, {
    'a parameter value empty': { ...ok, parameters: [{ name: 'region', value: '' }] },
    'a parameter value a number': { ...ok, parameters: [{ name: 'limit', value: 10 }] },
  }),
  ...refusedFor('parameters[0]', 'allowed: name, value', {
    'a parameter with an unknown key': {
      ...ok,
      parameters: [{ name: 'region', value: 'eu', type: 'varchar' }],
    },
  }),
  ...refusedFor('parameters', PARAMETERS_RULE, {
    'duplicate parameter names': {
      ...ok,
      parameters: [
        { name: 'region', value: 'eu' },
        { name: 'region', value: 'us' },
      ],
    },
    'huge JSON: 3000 parameters': {
      ...ok,
      parameters: Array.from({ length: 3000 }, (_, i) => ({ name: `p${i}`, value: `v${i}` })),
    },
  }),
  ...refusedFor('statementName', STATEMENT_NAME_RULE, {
    'statementName empty': { ...ok, statementName: '' },
    'statementName over 500 characters': { ...ok, statementName: 'n'.repeat(501) },
    'statementName a number': { ...ok, statementName: 7 },
  }),
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
