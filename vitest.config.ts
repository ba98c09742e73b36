// Two projects (docs/architecture.md, "Tests"): `unit` runs anywhere, as any user, in seconds;
// `kernel` is every *.kernel.test.ts, the tests that need root, network namespaces, bpffs, qemu or a
// root daemon. `npm test` runs both; `npx vitest run --project unit` runs the fast half.
import { defineConfig } from 'vitest/config';

const KERNEL = '**/*.kernel.test.ts';
const EXCLUDE = ['node_modules/**', 'dist/**', 'build/**', 'images/cache/**', 'images/out/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Privileged tests create namespaces and pinned maps with unique names, so files may run side by side.
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...EXCLUDE, KERNEL] } },
      { extends: true, test: { name: 'kernel', include: [KERNEL], exclude: EXCLUDE } },
    ],
  },
});
