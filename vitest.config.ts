import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three tiers. The fast tier holds the tests that need no local stack, no PostgreSQL cluster, no
 * child process and no CDK synth: the edit loop (`npm run test:fast`, the projects named `fast*`).
 * `infra` synthesizes and bundles the CDK app (`npm run test:infra`).
 * `integration` holds everything else, so a new test file lands there unless it is listed here,
 * and `npm test`, which runs every project, never leaves a file out.
 */

/**
 * The infra tests: the CDK app's synthesized template and its checks, the Lambda bundles, and the
 * app run as `cdk.json` runs it. They share one module graph per worker (`isolate: false`): each
 * synth file alone spends ~3 s of CPU loading aws-cdk-lib's lazily required modules on its first
 * synth; shared, that is paid once per worker instead of once per file.
 */
const INFRA = ['test/infra/**/*.test.ts'];

/**
 * Fast tests that change no module state, no environment variable they do not restore and no
 * global (no SDK client mocked at module scope, no fake timers): they share one module graph per
 * worker, which saves each file its own start of a worker and its own load of the SDK clients.
 */
const FAST_SHARED = [
  'test/client/errors.test.ts',
  'test/client/format.test.ts',
  'test/client/history.test.ts',
  'test/client/cli-input.test.ts',
  'test/client/cli-usage.test.ts',
  'test/client/connection.test.ts',
  'test/bench/stats.test.ts',
  'test/bench/harness.test.ts',
  'test/bench/concurrent-figures.test.ts',
  'test/bench/plan.test.ts',
  'test/bench/phase-context.test.ts',
  'test/local/sql-text.test.ts',
  'test/local/dialect.test.ts',
  'test/local/service-model.test.ts',
  'test/local/redrive-service.test.ts',
  'test/local/console-model.test.ts',
  'test/local/aws-chunked.test.ts',
  'test/statemachine/definition.test.ts',
  'test/structure/import-rules.test.ts',
];

/**
 * The tests on mocked AWS clients: the unit tests of the steps and their shared code, the error
 * contract run through the handlers, and SpectraClient's tests. One module graph per worker too:
 * they take their mocks from one module, test/support/mocked-clients.ts, which makes them once
 * per worker, and the project's setup file resets them before each test
 * (test/structure/import-rules.test.ts keeps every other `mockClient` out of these folders). A
 * test that fakes timers puts them back after it. Kept apart from the files above, whose SDK
 * clients must stay real.
 */
const FAST_MOCKED = [
  'test/unit/**/*.test.ts',
  'test/statemachine/error-contract.test.ts',
  'test/client/spectra-client/*.test.ts',
];

/**
 * Isolated as usual: these mock SDK clients at module scope, set environment variables or fake
 * timers. They run in worker threads, which start faster than the forked processes the
 * integration tests get (those start servers and children, and a crash there must not take the
 * run down with it).
 */
const FAST = [
  'test/client/result-rows.test.ts',
  'test/local/faults.test.ts',
  'test/local/lambda-invoker.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    // The integration suites start servers and worker threads; a generous timeout keeps a slow CI
    // machine from turning a slow run into a failed one, while assertions never measure time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'fast', include: FAST, pool: 'threads' } },
      {
        extends: true,
        test: { name: 'fast-shared', include: FAST_SHARED, pool: 'threads', isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'fast-mocked',
          include: FAST_MOCKED,
          setupFiles: ['test/support/reset-mocked-clients.ts'],
          // An environment variable a test stubs does not reach the next file of the worker.
          unstubEnvs: true,
          pool: 'threads',
          isolate: false,
        },
      },
      { extends: true, test: { name: 'infra', include: INFRA, isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...FAST, ...FAST_SHARED, ...FAST_MOCKED, ...INFRA],
        },
      },
    ],
  },
});
