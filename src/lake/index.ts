/** Lake: object stores, zone layout and manifest commits. */
export * from './store.js';
export * from './local.js';
export * from './manifest.js';
export * from './zones.js';
