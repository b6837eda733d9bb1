import { describe, expect, it } from 'vitest';
import { dbUserFor, loadConfig } from '../../functions/common/config.ts';

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
      dbUserTemplate: '{tenant}',
      maxSessionsPerTenant: 4,
      acquireWaitMilliseconds: 1000,
      resultInlineMaxBytes: 200_000,
      submitWaitSeconds: 5,
      pollWaitSeconds: 20,
    });
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
      { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'Analytics!' },
      /SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER must be a cluster identifier/,
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

describe('Function: dbUserFor', () => {
  it('maps the tenant id through the template, with "-" as "_"', () => {
    expect(dbUserFor('tenant-123', '{tenant}')).toBe('tenant_123');
    expect(dbUserFor('acme', 'app_{tenant}_ro')).toBe('app_acme_ro');
  });
});
