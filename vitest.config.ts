import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // The integration suites start servers and worker threads; a generous timeout keeps a slow CI
    // machine from turning a slow run into a failed one, while assertions never measure time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
