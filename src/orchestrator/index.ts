/** Orchestrator: the asset graph, selection, the runner and open workspaces. */
export * from './graph.js';
export * from './workspace.js';
export * from './executors.js';
export * from './runner.js';
export * from './watch.js';
