// The pure half of base: addresses and prefixes, coded errors, canonical JSON and signed key sets. What policy/ and protocol/ import of
// base, because index.ts also reaches commands (exec), the clock (wait) and node:os (errno), which
// pure parts may not (scripts/layering/rules.ts checks what they reach, transitively).
export * from './ip.ts';
export * from './errors.ts';
export * from './canonical.ts';
export * from './key-set.ts';
