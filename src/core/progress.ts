/**
 * Progress events. Modules below the CLI never print: they report through this interface and
 * the CLI decides how to show it (a live line on a TTY, nothing when quiet or piped).
 */

export interface ProgressEvent {
  /** What is being worked on, e.g. `process orders`. */
  label: string;
  done: number;
  total?: number;
  unit?: string;
}

export interface ProgressReporter {
  update(event: ProgressEvent): void;
  /** A line worth keeping in the output (a warning or a finished step). */
  log(message: string): void;
}

/** A reporter that drops everything: the default for library calls and tests. */
export const silentProgress: ProgressReporter = {
  update() {},
  log() {},
};
