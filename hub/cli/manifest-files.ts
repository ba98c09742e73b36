// Reads manifest files and directories (recursively: *.yaml, *.yml, *.json) for the pure parser.
// The only file I/O of the local policy tools.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, WeftError } from '../../base/index.ts';
import type { ManifestText } from '../../policy/index.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

export class ManifestFileError extends WeftError<'MANIFEST_FILE'> {
  override readonly name = 'ManifestFileError';
  constructor(message: string) {
    super('MANIFEST_FILE', message);
  }
}

function walk(path: string, out: string[], top: boolean): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ManifestFileError(`${path}: no such file or directory`);
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (!name.startsWith('.')) walk(join(path, name), out, false);
    }
  } else if (top || MANIFEST.test(path)) {
    out.push(path);
  }
}

/** The texts of every manifest under `paths`, in a stable order (files as named, directories sorted); `-` is stdin. */
export function readManifestFiles(paths: readonly string[]): ManifestText[] {
  const files: string[] = [];
  for (const p of paths) {
    if (p === '-') files.push(p);
    else walk(p, files, true);
  }
  return files.map((file) => {
    try {
      return file === '-' ? { file: '<stdin>', text: readFileSync(0, 'utf8') } : { file, text: readFileSync(file, 'utf8') };
    } catch (e) {
      throw new ManifestFileError(`${file}: ${errorMessage(e)}`);
    }
  });
}
