import type { Problem } from './problem';
import type { BuildResult } from './model/build';

/** The result of analysing a topology: the model, the parsed files and every diagnostic. */
export interface Analysis extends BuildResult {
  /** Model problems and rule diagnostics together, sorted by file and offset. */
  readonly diagnostics: readonly Problem[];
}
