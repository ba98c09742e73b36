// The base part: what every part needs and may import (DESIGN.md "every part -> base").
// ip, errors and errno are pure; exec and wait do I/O and touch the clock.
export * from './ip.ts';
export * from './errors.ts';
export * from './errno.ts';
export * from './exec.ts';
export * from './wait.ts';
