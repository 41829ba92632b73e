/** Order statistics of the bench's timings. */

/** The `q` quantile of `xs` (nearest rank: the lower middle value for the median of an even count). */
export function quantile(xs: readonly number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
