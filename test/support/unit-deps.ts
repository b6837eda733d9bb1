import { vi } from 'vitest';
import { s3Client } from '../../functions/common/clients.ts';
import { type Config, loadConfig } from '../../functions/common/config.ts';
import { createDeps } from '../../functions/common/deps.ts';
import type { SessionMetric, Telemetry } from '../../functions/common/observability.ts';
import type { FetchResultsDeps } from '../../functions/fetch-results.ts';

export const EXECUTION_ARN = 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:run-1';
export const NOW = new Date('2026-11-28T12:00:00.000Z');

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics', ...env });
}

/** Telemetry whose metrics a test can read back. */
export function recordingTelemetry() {
  const counts = new Map<string, number>();
  const telemetry: Telemetry = {
    logger: {
      info: vi.fn(),
      warn: vi.fn(),
      error: vi.fn(),
      debug: vi.fn(),
      appendKeys: vi.fn(),
    } as unknown as Telemetry['logger'],
    metrics: {
      addMetric: vi.fn((name: string, _unit: unknown, value = 1) => {
        counts.set(name, (counts.get(name) ?? 0) + value);
      }),
      addDimension: vi.fn(),
    } as unknown as Telemetry['metrics'],
  };
  return { telemetry, count: (metric: SessionMetric) => counts.get(metric) ?? 0 };
}

/**
 * Deps over the module's SDK clients (mocked by the test with aws-sdk-client-mock), the results
 * bucket's S3 among them for FetchResults, a fixed clock and, when given, a `sleep` that returns
 * without waiting.
 */
export function unitDeps(
  env: Record<string, string> = {},
  clock: () => Date = () => NOW,
  sleep?: (ms: number) => Promise<void>,
) {
  const recording = recordingTelemetry();
  const deps: FetchResultsDeps = {
    ...createDeps(testConfig(env), {
      clock,
      telemetry: recording.telemetry,
      ...(sleep ? { sleep } : {}),
    }),
    s3: s3Client,
  };
  return { deps, count: recording.count };
}

/**
 * What a conditional DeleteItem that succeeded answers when it asks for `ALL_OLD`: the item it
 * deleted (here its key, which is all a test's pool item needs to be told apart).
 */
export const deletedItem = (input: { Key?: Record<string, unknown> }) => ({
  Attributes: { ...input.Key },
});

/** `NOW` plus so many seconds. */
export const secondsAfterNow = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
