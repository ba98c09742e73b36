// Where the checkout is, and how to run one of its TypeScript entry points as a process.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** argv that runs a repo-relative .ts file with the checkout's loader (bin/run.mjs). */
export function tsEntry(file: string): string[] {
  return [process.execPath, `${REPO_ROOT}bin/run.mjs`, `${REPO_ROOT}${file}`];
}

/** Per-run build outputs that must resolve the repo's node_modules (agent bundles): <dir>/<run prefix>. */
export const FIELD_CACHE = `${REPO_ROOT}node_modules/.cache/weft-field`;
