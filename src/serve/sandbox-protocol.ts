/**
 * The messages between the sandbox pool (sandbox-pool.ts) and its query processes
 * (sandbox-child.ts). Open options and limits travel whole, as the caller built them.
 */
import type { SandboxLimits, SandboxOptions, SandboxResult } from '../engines/index.js';
import type { ParamValue } from './types.js';

export type ChildRequest =
  /** Open (or keep) the instance for these options, so the next query does not wait for it. */
  | { type: 'open'; open: SandboxOptions }
  /** Close the instances on this snapshot file once their query (if any) ends. */
  | { type: 'retire'; path: string }
  | {
      type: 'query';
      id: number;
      open: SandboxOptions;
      sql: string;
      params: Record<string, ParamValue>;
      limits: SandboxLimits;
    };

export type ChildReply =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; result: SandboxResult }
  | {
      type: 'error';
      id: number;
      error: { message: string; code: string; hint?: string };
    };
