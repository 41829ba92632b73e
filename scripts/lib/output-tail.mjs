// What `npm test` keeps of a step's output, to print why it failed again above its summary table.
import { StringDecoder } from 'node:string_decoder';

/** At most this many lines of one step's failure are printed again. */
export const WHY_LINES = 60;

/** The last `max` lines written through it (stdout and stderr interleaved as they arrived). */
export class OutputTail {
  #max;
  #lines = [];
  #partial = '';
  // A chunk may end inside a multi-byte character; the decoder holds its first bytes for the next chunk.
  #decoder = new StringDecoder('utf8');

  constructor(max) {
    this.#max = max;
  }

  write(chunk) {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    this.#lines.push(...parts);
    // Trimmed in batches, so a long run does not shift the array on every line.
    if (this.#lines.length > this.#max * 2) this.#lines.splice(0, this.#lines.length - this.#max);
  }

  lines() {
    const all = this.#partial ? [...this.#lines, this.#partial] : this.#lines;
    return all.slice(-this.#max);
  }
}

/**
 * The part of a failed step's output that says why: from mocha's last "N failing" on (its list of failures with
 * their errors), else the step's last lines, without blank lines around them; at most `WHY_LINES` lines and a line saying how many were left out.
 */
export function whyItFailed(lines) {
  let end = lines.length;
  while (end > 0 && !lines[end - 1].trim()) end--;
  lines = lines.slice(0, end);
  let from = -1;
  for (let i = lines.length - 1; i >= 0 && from < 0; i--) if (/\b\d+ failing\b/.test(lines[i])) from = i;
  const why = from >= 0 ? lines.slice(from) : lines.slice(-WHY_LINES);
  while (why.length && !why[0].trim()) why.shift();
  return why.length > WHY_LINES ? [...why.slice(0, WHY_LINES), `… and ${why.length - WHY_LINES} more lines`] : why;
}
