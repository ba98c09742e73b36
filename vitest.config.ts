import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'build/**', 'images/cache/**', 'images/out/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Privileged tests create namespaces and pinned maps with unique names, so files may run side by side.
    fileParallelism: true,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
