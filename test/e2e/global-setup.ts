/**
 * The e2e project's globalSetup (jest.config.js): makes this jest run's folder for the shared n8n. Nothing
 * starts here: the first test file that calls `sharedN8n()` starts it, so a run of files that all start
 * their own n8n (or a run of the unit project, which never gets here) starts no extra one.
 */
export { sharedRunSetup as default } from './harness';
