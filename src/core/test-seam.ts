/**
 * The one test seam: every environment variable through which tests (and the drill, which runs
 * against local emulators) reach inside holdfast is read here and nowhere else. docs/testing.md
 * says what each does; a unit test (test/unit/test-seam.test.ts) fails when one is read elsewhere.
 * None of them is needed in production; none widens what holdfast may do to a cloud.
 */

/** The variables of the seam, by what they do. */
export const TEST_SEAM = {
  /** SIGKILL the process right after journal line k is on disk (the crash-at-every-event tests). */
  crashAtEvent: 'HOLDFAST_CRASH_AT_EVENT',
  /** A module exporting `providers`, added to the built-in ones (tests' stand-in providers, site add-ons). */
  plugin: 'HOLDFAST_PLUGIN',
  /** The AWS SDK's attempts per call (tests and the drill: 1 or 2 against moto instead of the default). */
  awsMaxAttempts: 'HOLDFAST_AWS_MAX_ATTEMPTS',
} as const;

/** The journal line after which to SIGKILL this process, or undefined (the normal case). */
export function crashAtEvent(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const k = Number(env[TEST_SEAM.crashAtEvent]);
  return Number.isInteger(k) && k > 0 ? k : undefined;
}

/** The plug-in module to load providers from, or undefined. */
export function pluginModule(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[TEST_SEAM.plugin] || undefined;
}

/** The AWS SDK's maxAttempts the environment asks for, or undefined for the SDK's default. */
export function awsMaxAttempts(env: NodeJS.ProcessEnv): number | undefined {
  const n = Number(env[TEST_SEAM.awsMaxAttempts]);
  return env[TEST_SEAM.awsMaxAttempts] && Number.isInteger(n) && n > 0 ? n : undefined;
}
