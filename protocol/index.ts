export * from './topics.ts';
export * from './messages.ts';
