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

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';

export function tokenize(line: string): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSpace(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    let value = '';
    let quote: string | undefined;
    let quoteStart = -1;
    let quoted = false;
    while (i < line.length) {
      const c = line[i];
      if (quote) {
        if (c === '\\' && quote === '"' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          value += line[i + 1];
          i += 2;
          continue;
        }
        if (c === quote) {
          quote = undefined;
          i++;
          continue;
        }
        value += c;
        i++;
        continue;
      }
      if (isSpace(c)) break;
      if (c === '"' || c === "'") {
        quote = c;
        quoted = true;
        quoteStart = i;
        i++;
        continue;
      }
      if (c === '\\' && i + 1 < line.length) {
        value += line[i + 1];
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    tokens.push({ value, start, end: i, quoted });
    if (quote) return { tokens, unterminatedQuote: quoteStart };
  }
  return { tokens };
}
