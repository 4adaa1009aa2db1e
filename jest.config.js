/** Two projects: fast unit/integration tests (local provider server, PostgreSQL)
 * and the end-to-end suite that drives a real n8n. `npm test` runs both. */
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  // No test may depend on how fast the machine is: a generous limit for every test (jest's 5 s default failed
  // a retry-after test on a loaded 2-core machine); tests that wait longer set their own, the e2e suite 10 min.
  testTimeout: 30_000,
};
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
			...base,
			displayName: 'e2e',
			testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
			setupFilesAfterEnv: ['<rootDir>/test/e2e/jest.setup.ts'],
			// The shared n8n (harness.ts sharedN8n()): a folder per run, and the stop at the end. Project-level, so
			// they run only when e2e files do; n8n itself starts when the first file asks for it.
			globalSetup: '<rootDir>/test/e2e/global-setup.ts',
			globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
			testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/.run/'],
			modulePathIgnorePatterns: ['<rootDir>/test/e2e/.run/', '<rootDir>/.cache/'],
		},
  ],
};
