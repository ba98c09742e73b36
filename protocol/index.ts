export * from './topics.ts';
export * from './messages.ts';
export * from './enroll.ts';
export * from './release.ts';
export * from './mesh.ts';
