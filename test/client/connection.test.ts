import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ClientConfigurationError,
  LOCAL_ENDPOINT,
  LOCAL_STATE_MACHINE_ARN,
  SpectraClient,
} from '../../client/index.ts';

/**
 * Where a SpectraClient sends its requests: its options, else the AWS and Spectra environment
 * variables, else the local stack; and what it refuses before it sends anything.
 */

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:spectra-query';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Class: SpectraClient, configuration', () => {
  it('defaults to the local state machine and the spectra-sessions table', () => {
    // Prepare
    vi.stubEnv('SPECTRA_STATE_MACHINE_ARN', '');
    vi.stubEnv('SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME', '');
    vi.stubEnv('AWS_ENDPOINT_URL', '');

    // Act
    const client = new SpectraClient();

    // Assess
    expect(client.stateMachineArn).toBe(LOCAL_STATE_MACHINE_ARN);
    expect(client.sessionsTableName).toBe('spectra-sessions');
    // The local state machine exists only on the local stack.
    expect(client.endpoint).toBe(LOCAL_ENDPOINT);
  });

  it('reads SPECTRA_STATE_MACHINE_ARN and SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME', () => {
    // Prepare
    vi.stubEnv('SPECTRA_STATE_MACHINE_ARN', STATE_MACHINE_ARN);
    vi.stubEnv('SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME', 'prod-sessions');
    vi.stubEnv('AWS_ENDPOINT_URL', '');

    // Act
    const client = new SpectraClient();

    // Assess
    expect(client.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(client.sessionsTableName).toBe('prod-sessions');
    expect(client.endpoint).toBeUndefined();
  });

  it.each([
    [
      { endpoint: 'not-a-url' },
      'endpoint: expected an http:// or https:// URL such as http://127.0.0.1:4599; got "not-a-url"',
    ],
    [{ endpoint: 'ftp://127.0.0.1:4599' }, 'endpoint: expected an http:// or https:// URL'],
    [
      { region: '' },
      'region: expected an AWS region such as us-east-1 (lowercase letters, digits and hyphens); got ""',
    ],
    [{ region: 'us east 1' }, 'region: expected an AWS region such as us-east-1'],
  ])('throws ClientConfigurationError for %o', (options, message) => {
    // Act & Assess
    expect(() => new SpectraClient(options)).toThrow(ClientConfigurationError);
    expect(() => new SpectraClient(options)).toThrow(message);
  });

  it('names AWS_ENDPOINT_URL_SFN when that variable is not a URL, unless an endpoint is given', () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', '');
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', '127.0.0.1:4599');

    // Act & Assess
    expect(() => new SpectraClient()).toThrow(
      'AWS_ENDPOINT_URL_SFN: expected an http:// or https:// URL such as http://127.0.0.1:4599; got "127.0.0.1:4599"',
    );
    expect(new SpectraClient({ endpoint: 'http://127.0.0.1:4599' }).endpoint).toBe(
      'http://127.0.0.1:4599',
    );
  });
});
