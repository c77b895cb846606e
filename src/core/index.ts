/** Core: errors, atomic file helpers and progress events shared by every module. */
export * from './errors.js';
export * from './fs.js';
export * from './progress.js';
export * from './scan.js';
export * from './csv.js';
export * from './faults.js';
export * from './redact.js';
export * from './duration.js';
export * from './backoff.js';
