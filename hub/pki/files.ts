// Secret files: written 0600 atomically (temp file + rename), so a crash never leaves half a key, and
// durably: the data is fsynced before the rename and the directory after it. Without both, a power
// cut after the hub used a new key (signed a bundle, issued a token) can leave an empty or missing file.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function writeDurably(path: string, data: string | Buffer, mode: number): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

export function writeSecret(path: string, data: string | Buffer): void {
  writeDurably(path, data, 0o600);
}

export function writePublic(path: string, data: string | Buffer): void {
  writeDurably(path, data, 0o644);
}
