// The base part: what every part needs and may import (DESIGN.md "every part -> base").
// ip and errors are pure (pure.ts, the door pure parts use); errno, exec and wait are not.
export * from './pure.ts';
export * from './errno.ts';
export * from './exec.ts';
export * from './wait.ts';
