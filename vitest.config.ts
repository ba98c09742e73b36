// Two projects (docs/architecture.md, "Tests"): `unit` runs anywhere, as any user, in seconds;
// `kernel` is every *.kernel.test.ts, the tests that need root, network namespaces, bpffs, qemu or a
// root daemon. `browser` is every *.browser.test.ts: the dashboard driven in Debian's chromium against a
// real hub (no root, but a browser and a few seconds each). `npm test` runs all three; `npx vitest run
// --project unit` runs the fast half.
import { defineConfig } from 'vitest/config';

const KERNEL = '**/*.kernel.test.ts';
const BROWSER = '**/*.browser.test.ts';
const EXCLUDE = ['node_modules/**', 'dist/**', 'build/**', 'images/cache/**', 'images/out/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Privileged tests create namespaces and pinned maps with unique names, so files may run side by side.
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...EXCLUDE, KERNEL, BROWSER] } },
      { extends: true, test: { name: 'kernel', include: [KERNEL], exclude: EXCLUDE } },
      { extends: true, test: { name: 'browser', include: [BROWSER], exclude: EXCLUDE } },
    ],
  },
});
