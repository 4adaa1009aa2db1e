// End-to-end tests start real n8n processes (10–60 s each on a small machine): give them room.
// Registered through the e2e project's `setupFilesAfterEnv` in jest.config.js.
jest.setTimeout(10 * 60_000);
