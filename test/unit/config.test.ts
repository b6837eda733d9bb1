import { describe, expect, it } from 'vitest';
import {
  DB_USER_TEMPLATE_RULE,
  dbUserFor,
  dbUserNamespace,
  loadConfig,
  RESERVED_DB_USER_PREFIXES,
  RESERVED_DB_USERS,
  reservedDbUserReason,
  tenantDbUser,
} from '../../functions/common/config.ts';
import { InvalidInputError } from '../../functions/common/errors.ts';

const base = { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics' };

describe('Function: loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(base)).toEqual({
      sessionKeepAliveSeconds: 3600,
      sessionIdleTimeoutSeconds: 300,
      sessionsTableName: 'spectra-sessions',
      database: 'dev',
      target: { clusterIdentifier: 'analytics' },
      secretArn: undefined,
      dbUserTemplate: 'tenant_{tenant}',
      deniedDbUsers: [],
      maxSessionsPerTenant: 4,
      maxSessionsTotal: 400,
      acquireWaitMilliseconds: 1000,
      resultInlineMaxBytes: 200_000,
      resultsBucketName: 'spectra-results',
      resultRetentionDays: 7,
      resultPartBytes: 16 * 1024 * 1024,
      submitWaitSeconds: 5,
      pollWaitSeconds: 20,
      queryTimeoutSeconds: 3600,
      logSql: false,
    });
  });

  it('reads the denied database users as a list, lower-cased, and SPECTRA_LOG_SQL as a flag', () => {
    const config = loadConfig({
      ...base,
      SPECTRA_DENIED_DB_USERS: ' ops_admin, ETL_owner ,,ops_admin',
      SPECTRA_LOG_SQL: 'TRUE',
    });
    expect(config.deniedDbUsers).toEqual(['ops_admin', 'etl_owner']);
    expect(config.logSql).toBe(true);
  });

  it('reads a Serverless workgroup and a secret', () => {
    const config = loadConfig({
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'default-wg',
      SPECTRA_REDSHIFT_SECRET_ARN:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:spectra-AbCdEf',
    });
    expect(config.target).toEqual({ workgroupName: 'default-wg' });
    expect(config.secretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:spectra-AbCdEf',
    );
  });

  it.each([
    [
      { SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS: '0' },
      /SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS must be from 1 to 86400; got 0/,
    ],
    [
      { SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS: '90000' },
      /SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS must be from 1 to 86400/,
    ],
    [
      { SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS: 'an hour' },
      /SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS must be a whole number from 1 to 86400; got "an hour"/,
    ],
    [
      { SPECTRA_REDSHIFT_SESSION_IDLE_TIMEOUT_SECONDS: '-5' },
      /SPECTRA_REDSHIFT_SESSION_IDLE_TIMEOUT_SECONDS must be from 1 to 86400/,
    ],
    [
      { SPECTRA_MAX_SESSIONS_PER_TENANT: '0' },
      /SPECTRA_MAX_SESSIONS_PER_TENANT must be from 1 to 500/,
    ],
    [
      { SPECTRA_MAX_SESSIONS_PER_TENANT: '2.5' },
      /SPECTRA_MAX_SESSIONS_PER_TENANT must be a whole number/,
    ],
    [
      { SPECTRA_RESULT_INLINE_MAX_BYTES: '300000' },
      /SPECTRA_RESULT_INLINE_MAX_BYTES must be from 1024 to 250000/,
    ],
    [
      { SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME: 'no spaces' },
      /SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME must be 3-255 characters/,
    ],
    [
      { SPECTRA_REDSHIFT_DATABASE: '1st' },
      /SPECTRA_REDSHIFT_DATABASE must be a Redshift database name/,
    ],
    [
      { SPECTRA_REDSHIFT_SECRET_ARN: 'my-secret' },
      /SPECTRA_REDSHIFT_SECRET_ARN must be a Secrets Manager secret ARN/,
    ],
    [{ SPECTRA_DB_USER_TEMPLATE: 'tenant' }, /SPECTRA_DB_USER_TEMPLATE must contain "\{tenant\}"/],
    [
      { SPECTRA_DENIED_DB_USERS: 'ops-admin' },
      /SPECTRA_DENIED_DB_USERS must be a comma-separated list of database user names .*; got "ops-admin"/,
    ],
    [{ SPECTRA_LOG_SQL: 'yes' }, /SPECTRA_LOG_SQL must be true or false; got "yes"/],
    [
      { SPECTRA_RESULT_RETENTION_DAYS: '0' },
      /SPECTRA_RESULT_RETENTION_DAYS must be from 1 to 365; got 0/,
    ],
    [
      { SPECTRA_RESULT_RETENTION_DAYS: 'a week' },
      /SPECTRA_RESULT_RETENTION_DAYS must be a whole number from 1 to 365; got "a week"/,
    ],
    [
      { SPECTRA_RESULT_PART_BYTES: '1000' },
      /SPECTRA_RESULT_PART_BYTES must be from 65536 to 1073741824; got 1000/,
    ],
    [
      { SPECTRA_RESULTS_BUCKET_NAME: 'Results_Bucket' },
      /SPECTRA_RESULTS_BUCKET_NAME must be an S3 bucket name/,
    ],
    [
      { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'Analytics!' },
      /SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER must be a cluster identifier/,
    ],
    [
      { SPECTRA_QUERY_TIMEOUT_SECONDS: '86401' },
      /SPECTRA_QUERY_TIMEOUT_SECONDS must be from 1 to 86400; got 86401/,
    ],
    [
      { SPECTRA_QUERY_TIMEOUT_SECONDS: '1h' },
      /SPECTRA_QUERY_TIMEOUT_SECONDS must be a whole number from 1 to 86400; got "1h"/,
    ],
  ])('fails on %o, naming the variable and what it allows', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('fails when neither a cluster nor a workgroup is set', () => {
    expect(() => loadConfig({})).toThrow(
      /Set one of SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER \(provisioned\) or SPECTRA_REDSHIFT_WORKGROUP_NAME \(Serverless\)/,
    );
  });

  it('fails when both a cluster and a workgroup are set', () => {
    expect(() => loadConfig({ ...base, SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1' })).toThrow(
      /Set only one of/,
    );
    expect(() => loadConfig({ ...base, SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1' })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError' }),
    );
  });
});

describe('Function: dbUserNamespace', () => {
  it.each([
    ['tenant_{tenant}', { prefix: 'tenant_', suffix: '' }],
    ['{tenant}_ro', { prefix: '', suffix: '_ro' }],
    ['t_{tenant}', { prefix: 't_', suffix: '' }],
    ['app_{tenant}_ro', { prefix: 'app_', suffix: '_ro' }],
    ['_x{tenant}', { prefix: '_x', suffix: '' }],
  ])('reads the fixed part of %s', (template, namespace) => {
    expect(dbUserNamespace(template)).toEqual(namespace);
  });

  it.each([
    [
      '{tenant}',
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    ],
    [
      't{tenant}',
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    ],
    [
      'x{tenant}y',
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    ],
    [
      '__{tenant}',
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    ],
    [
      '{tenant}___',
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    ],
    ['tenant', 'no {tenant}'],
    ['t_{tenant}_{tenant}', '{tenant} more than once'],
    ['T_{tenant}', 'other characters than a-z, 0-9 and "_"'],
    ['t-{tenant}', 'other characters than a-z, 0-9 and "_"'],
    ['1t_{tenant}', 'a user name cannot start with a digit'],
    ['pg_{tenant}', 'every user would start with "pg_", which system users start with'],
    ['rds_{tenant}', 'every user would start with "rds", which system users start with'],
    ['aws{tenant}', 'every user would start with "aws", which system users start with'],
  ])('refuses %s, naming the variable, the rule and the problem', (template, problem) => {
    expect(() => dbUserNamespace(template)).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: `SPECTRA_DB_USER_TEMPLATE must ${DB_USER_TEMPLATE_RULE}; got "${template}" (${problem})`,
      }),
    );
  });

  it('stops loadConfig on a template without a fixed part', () => {
    expect(() => loadConfig({ ...base, SPECTRA_DB_USER_TEMPLATE: '{tenant}' })).toThrow(
      /SPECTRA_DB_USER_TEMPLATE must contain "\{tenant\}" once .* a fixed part of at least 2 characters .*; got "\{tenant\}" \(no fixed part/,
    );
  });
});

describe('Function: dbUserFor', () => {
  it('maps the tenant id through the template, with "-" as "_"', () => {
    expect(dbUserFor('acme', 'tenant_{tenant}')).toBe('tenant_acme');
    expect(dbUserFor('tenant-123', 'tenant_{tenant}')).toBe('tenant_tenant_123');
    expect(dbUserFor('acme', 'app_{tenant}_ro')).toBe('app_acme_ro');
  });
});

describe('Function: tenantDbUser', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ ...base, ...env });

  it("returns the tenant's user in the template's namespace", () => {
    expect(tenantDbUser('acme', config())).toBe('tenant_acme');
    expect(tenantDbUser('postgres', config())).toBe('tenant_postgres');
    expect(tenantDbUser('awsuser', config())).toBe('tenant_awsuser');
  });

  it.each([
    ['{tenant}db', 'rds', 'rdsdb', 'is a Redshift or PostgreSQL system or administrator user'],
    ['{tenant}user', 'aws', 'awsuser', 'is a Redshift or PostgreSQL system or administrator user'],
    [
      '{tenant}gres',
      'post',
      'postgres',
      'is a Redshift or PostgreSQL system or administrator user',
    ],
    ['{tenant}in', 'adm', 'admin', 'is a Redshift or PostgreSQL system or administrator user'],
    ['{tenant}ot', 'ro', 'root', 'is a Redshift or PostgreSQL system or administrator user'],
    ['{tenant}_ro', 'pg', 'pg_ro', 'starts with "pg_", as system users do'],
    ['{tenant}_ro', 'rdsx', 'rdsx_ro', 'starts with "rds", as system users do'],
    ['{tenant}_ro', 'aws-ops', 'aws_ops_ro', 'starts with "aws", as system users do'],
  ])('under %s refuses tenant %s, whose user would be %s', (template, tenant, user, reason) => {
    expect(() => tenantDbUser(tenant, config({ SPECTRA_DB_USER_TEMPLATE: template }))).toThrow(
      new InvalidInputError(
        `Invalid input: tenantId "${tenant}" would run as database user "${user}", which ${reason}; a tenant never runs as a system or administrator user`,
      ),
    );
  });

  it("refuses the deployment's own administrators named in SPECTRA_DENIED_DB_USERS", () => {
    const denying = config({
      SPECTRA_DB_USER_TEMPLATE: '{tenant}_admin',
      SPECTRA_DENIED_DB_USERS: 'ops_admin',
    });
    expect(() => tenantDbUser('ops', denying)).toThrow(
      /tenantId "ops" would run as database user "ops_admin", which is denied by SPECTRA_DENIED_DB_USERS/,
    );
    expect(tenantDbUser('acme', denying)).toBe('acme_admin');
  });

  it('lists every reserved name and prefix as never a tenant user', () => {
    for (const user of RESERVED_DB_USERS) expect(reservedDbUserReason(user, [])).toBeDefined();
    for (const prefix of RESERVED_DB_USER_PREFIXES)
      expect(reservedDbUserReason(`${prefix}x`, [])).toBeDefined();
    expect(reservedDbUserReason('tenant_acme', [])).toBeUndefined();
  });
});
