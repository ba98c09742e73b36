// errno values by name, from the running system's own table (os.constants.errno), so code reads
// `e.errno === -errno.EOPNOTSUPP` and not `e.errno === -95`. Pure: a constant lookup, no I/O.
import { constants } from 'node:os';

export const errno = constants.errno;

export type ErrnoName = keyof typeof constants.errno;

/** True when `value` is errno `name`, in either sign (libbpf returns -errno, Node's errors carry +errno or -errno). */
export function isErrno(value: number | undefined, name: ErrnoName): boolean {
  return value !== undefined && Math.abs(value) === errno[name];
}

/** The name of an errno value in either sign (`-95` -> `EOPNOTSUPP`), or undefined if the system has none. */
export function errnoName(value: number): ErrnoName | undefined {
  const abs = Math.abs(value);
  return (Object.keys(errno) as ErrnoName[]).find((k) => errno[k] === abs);
}
