/** The e2e project's globalTeardown (jest.config.js): stops this jest run's shared n8n and prints how many n8n starts the run made. */
export { sharedRunTeardown as default } from './harness';
