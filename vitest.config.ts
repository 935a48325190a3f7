import { delimiter, dirname } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests start the daemon through node_modules/.bin shims, which run the first `node` in PATH:
// make that the node running vitest (test/run runs it on the pinned one, contrib/runtime/versions).
process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;

// Tiers (see test/README.md): unit tests live beside each package, integration and end-to-end
// tests under test/. The e2e tier needs root, ip netns and BIRD; it skips itself with a reason
// when they are missing, and the CI script makes sure they are present.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
