/** The last `max` lines of a step's output. */
export class OutputTail {
  constructor(max: number);
  write(chunk: string | Uint8Array): void;
  lines(): string[];
}
export const WHY_LINES: number;
/** The part of a failed step's output that says why (mocha's failures, else its last lines), bounded. */
export function whyItFailed(lines: readonly string[]): string[];
