/** Splitting one iptables-save line into words, the way iptables-restore does (double and single quotes, backslash escapes). */

export interface Token {
  /** The word with quotes removed and escapes resolved. */
  readonly value: string;
  /** Offset of the first character of the raw word in the line. */
  readonly start: number;
  /** Offset just after the raw word in the line. */
  readonly end: number;
  /** Whether any part of the word was quoted. */
  readonly quoted: boolean;
}

export interface TokenizeResult {
  readonly tokens: readonly Token[];
  /** Offset of an opening quote that was never closed, if any. */
  readonly unterminatedQuote?: number;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 12 || c === 11;
const QUOTE2 = 34;
const QUOTE1 = 39;
const BACKSLASH = 92;

export function tokenize(line: string): TokenizeResult {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    // Fast path: a plain word (no quotes, no escapes) is a slice of the line.
    let j = i;
    let c = 0;
    while (j < n) {
      c = line.charCodeAt(j);
      if (isSpace(c) || c === QUOTE2 || c === QUOTE1 || c === BACKSLASH) break;
      j++;
    }
    if (j >= n || isSpace(c)) {
      tokens.push({ value: line.slice(start, j), start, end: j, quoted: false });
      i = j;
      continue;
    }
    let value = line.slice(start, j);
    i = j;
    let quote = 0;
    let quoteStart = -1;
    let quoted = false;
    while (i < n) {
      const ch = line.charCodeAt(i);
      if (quote) {
        if (
          ch === BACKSLASH &&
          quote === QUOTE2 &&
          i + 1 < n &&
          (line.charCodeAt(i + 1) === QUOTE2 || line.charCodeAt(i + 1) === BACKSLASH)
        ) {
          value += line[i + 1];
          i += 2;
          continue;
        }
        if (ch === quote) {
          quote = 0;
          i++;
          continue;
        }
        // Copy the run up to the next quote or backslash at once.
        let k = i + 1;
        while (k < n && line.charCodeAt(k) !== quote && line.charCodeAt(k) !== BACKSLASH) k++;
        value += line.slice(i, k);
        i = k;
        continue;
      }
      if (isSpace(ch)) break;
      if (ch === QUOTE2 || ch === QUOTE1) {
        quote = ch;
        quoted = true;
        quoteStart = i;
        i++;
        continue;
      }
      if (ch === BACKSLASH && i + 1 < n) {
        value += line[i + 1];
        i += 2;
        continue;
      }
      value += line[i];
      i++;
    }
    tokens.push({ value, start, end: i, quoted });
    if (quote) return { tokens, unterminatedQuote: quoteStart };
  }
  return { tokens };
}
