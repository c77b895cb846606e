/** Orchestrator: the asset graph, selection, the runner and open workspaces. */
export * from './graph.js';
export * from './workspace.js';
export * from './executors.js';
export * from './runner.js';
export * from './watch.js';
export * from './policy.js';
export * from './partitions.js';
export * from './scheduler.js';
export * from './server.js';
export * from './dead-letters.js';
export * from './replay.js';
export * from './serving.js';
export * from './pii.js';
export * from './lineage.js';
