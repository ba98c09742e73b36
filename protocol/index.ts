export * from './topics.ts';
export * from './messages.ts';
export * from './enroll.ts';
export * from './mesh.ts';
