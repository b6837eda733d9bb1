import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two tiers. The fast tier holds the tests that need no local stack, no PostgreSQL cluster and no
 * child process: the edit loop (`npm run test:fast`, the projects named `fast*`). `integration`
 * holds everything else, so a new test file lands there unless it is listed here, and `npm test`,
 * which runs every project, never leaves a file out.
 */

/**
 * The CDK tests: they only synthesize templates, so they share one module graph per worker
 * (`isolate: false`). Each file alone spends ~3 s of CPU loading aws-cdk-lib's lazily required
 * modules on its first synth; shared, that is paid once per worker instead of once per file.
 */
const FAST_CDK = [
  'test/infra/cdk-nag.test.ts',
  'test/infra/compute-targets.test.ts',
  'test/infra/parameters.test.ts',
  'test/infra/spectra-stack.test.ts',
];

/**
 * Isolated as usual: these mock SDK clients at module scope and set environment variables. They
 * run in worker threads, which start faster than the forked processes the integration tests get
 * (those start servers and children, and a crash there must not take the run down with it).
 */
const FAST = [
  'test/unit/**/*.test.ts',
  'test/statemachine/**/*.test.ts',
  'test/structure/**/*.test.ts',
  'test/client/spectra-client/*.test.ts',
  'test/client/errors.test.ts',
  'test/client/cli-usage.test.ts',
  'test/client/cli-input.test.ts',
  'test/client/connection.test.ts',
  'test/client/format.test.ts',
  'test/client/history.test.ts',
  'test/bench/bench.test.ts',
  'test/local/sql-text.test.ts',
  'test/local/faults.test.ts',
  'test/local/lambda-invoker.test.ts',
  'test/local/dialect.test.ts',
  'test/local/service-model.test.ts',
  'test/local/redrive-service.test.ts',
  'test/local/console-model.test.ts',
  'test/local/aws-chunked.test.ts',
  'test/client/result-rows.test.ts',
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
      { extends: true, test: { name: 'fast-cdk', include: FAST_CDK, isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...FAST, ...FAST_CDK],
        },
      },
    ],
  },
});
