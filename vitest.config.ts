import { defineConfig } from 'vitest/config';

/**
 * Three tiers (vitest projects), run together by `npm test` or alone with `--project NAME`
 * (npm run test:unit / test:integration / test:cli):
 * - unit: pure code and the in-process engine, no server, no Python, seconds;
 * - integration: the library against real servers (moto, kube-apiserver, PostgreSQL, MariaDB);
 * - cli: the built `evidence` binary against the same servers (fails at once on a stale dist/).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // Only the unit tier runs in threads (its project says so). Without isolation a worker imports
    // the SDKs and the engine once, not once per test file: that re-import was two thirds of the
    // tier's CPU (its tests take about 5 s). Unit tests mock no module and set no global state, and
    // they pass in shuffled file order. Vitest 3 takes pool options from here, not from a project.
    poolOptions: { threads: { isolate: false } },
    testTimeout: 120_000,
    hookTimeout: 600_000,
    env: {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      HOLDFAST_AWS_MAX_ATTEMPTS: '1',
      // moto on a busy test machine can be silent for longer than production's 60 s default; the
      // timeout tests set their own (case field), which wins over this.
      HOLDFAST_REQUEST_TIMEOUT: '300',
      // The tests use the SDK directly too; its Node upgrade notice would bury real output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts', 'providers/**/*.test.ts'],
          // Worker threads that keep one module graph across files (poolOptions.threads above).
          pool: 'threads',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          globalSetup: ['test/support/built-cli.ts', 'test/support/global-setup.ts'],
        },
      },
    ],
  },
});
