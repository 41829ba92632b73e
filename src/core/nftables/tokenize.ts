/**
 * Tokens of nft's language with their offsets. Words keep `.`, `:`, `/`, `-` and `*` (addresses, CIDRs, ranges,
 * chain names like `service-X-ns/name/tcp/p80`); a `.` or `:` standing alone is the concatenation or map operator.
 * Quoted strings lose their quotes. `#` starts a comment to the end of the line. Newlines are tokens: a rule ends
 * at one unless braces are open.
 */
export interface Token {
  /** The text (without quotes for a string); `\n` for a newline. */
  readonly t: string;
  readonly start: number;
  readonly end: number;
  readonly quoted?: boolean;
}

const PUNCT = new Set(['{', '}', ';', ',', '(', ')', '|', '&', '^', '=']);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      out.push({ t: '\n', start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < n && text[j] !== '"' && text[j] !== '\n') {
        if (text[j] === '\\' && j + 1 < n) j++;
        s += text[j];
        j++;
      }
      out.push({ t: s, start: i, end: Math.min(j + 1, n), quoted: true });
      i = j + 1;
      continue;
    }
    if (c === '!' && text[i + 1] === '=') {
      out.push({ t: '!=', start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if ((c === '=' || c === '<' || c === '>') && text[i + 1] === '=') {
      out.push({ t: `${c}=`, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      out.push({ t: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (PUNCT.has(c)) {
      out.push({ t: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    let j = i;
    while (j < n && !/[\s{};,"#()|&^=!<>]/.test(text[j])) j++;
    if (j === i) {
      // A lone character nothing else takes (e.g. `!` not followed by `=`): a one-character word.
      j = i + 1;
    }
    out.push({ t: text.slice(i, j), start: i, end: j });
    i = j;
  }
  return out;
}
