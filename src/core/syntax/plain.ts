/** Plain scalars (unquoted, one line) resolved as the YAML 1.2 core schema does: shared by the fast reader and its nodes. */

const DASH = 45; // -
const DOT = 46; // .

const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** n, N, t, T, f, F: the first letters of `null`, `true` and `false` in their spellings. */
const NULL_OR_BOOL_FIRST: ReadonlySet<number> = new Set([110, 78, 116, 84, 102, 70]);

/** The most digits whose decimal value a double holds exactly at every step of summing them (10^15 < 2^53). */
const MAX_EXACT_DIGITS = 15;

/**
 * Whether a plain scalar resolves to null (`resolvePlain(s) === null`): only its null spellings do, so a reader that
 * needs the text of a string (a name, an address) asks this and resolves nothing.
 */
export function isPlainNull(s: string): boolean {
  return s.length <= 4 && NULL_RE.test(s);
}

/** A plain scalar's value under the YAML 1.2 core schema, as the `yaml` library resolves it. */
export function resolvePlain(s: string): string | number | boolean | null {
  if (s.length === 0) return null;
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    // Digits alone (a port, a count, a replica number), read in one pass: below 10^15 the sum is exact, the same
    // number parseInt gives, with no scan for slashes and dots, no pattern and no parse after it. Anything else
    // (an address, a float, 0x1f, 0o17) stops at its first non-digit and is read below.
    if (s.length <= MAX_EXACT_DIGITS) {
      let n = 0;
      let i = 0;
      for (; i < s.length; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i === s.length) return n;
    }
    // An address or a range (a slash, a colon, or more than one dot) is no null, bool or number: none of the
    // patterns below allows them, and most digit-led scalars of a cluster are addresses.
    if (s.includes('/') || s.includes(':') || s.indexOf('.') !== s.lastIndexOf('.')) return s;
    // Digits alone (a port, a count) match none of the null, bool, octal or hex spellings tested first below.
    if (INT_RE.test(s)) return parseInt(s, 10);
  } else if (c !== DASH && c !== 43 /* + */ && c !== DOT && c !== 126 /* ~ */) {
    // Led by a letter (or another character): only the null and bool spellings (four or five letters, n, t or f
    // first) are no string. Most plain scalars are names, and the mapping resolves a value on each read of it.
    if ((s.length !== 4 && s.length !== 5) || !NULL_OR_BOOL_FIRST.has(c)) return s;
    if (NULL_RE.test(s)) return null;
    return BOOL_RE.test(s) ? c === 116 || c === 84 : s;
  }
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return c === 116 || c === 84;
  if (OCT_RE.test(s)) return parseInt(s.substring(2), 8);
  if (INT_RE.test(s)) return parseInt(s, 10);
  if (HEX_RE.test(s)) return parseInt(s.substring(2), 16);
  if (NAN_RE.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (EXP_RE.test(s) || FLOAT_RE.test(s)) return parseFloat(s);
  return s;
}
