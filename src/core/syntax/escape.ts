/**
 * Strings from a repository reach terminals and CI logs: a name holding ANSI or OSC sequences could clear the
 * screen, set the window title, plant a hyperlink, or (with a newline) forge a whole `file:1:1 error …` line;
 * bidi overrides reorder what is shown. These escape every such character as `\uXXXX`, the same escape JSON uses,
 * so escaped JSON still parses to the exact same data.
 */

/* eslint-disable no-control-regex -- matching control characters is the point of this file */
/** C0 controls but newline, DEL, C1 controls, bidi marks, overrides and isolates, line and paragraph separators. */
const UNSAFE_BUT_NEWLINE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** The same, newline included: for one string that must stay on its line. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One string from input, made safe to print on one line of a terminal: every control character escaped. */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, hex);
}

/** A colour of NetPath's own (SGR): kept by {@link escapeOutput}, as input strings are escaped before painting. */
const SGR = /^\u001b\[[0-9;]*m/;

/**
 * A whole output (text lines, JSON or SARIF) made safe for a terminal, its newlines and its own SGR colours kept:
 * the last line of defence, after each input string was escaped where it is formatted. In JSON these characters
 * can only sit inside strings, where `\uXXXX` is their exact escape.
 */
export function escapeOutput(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, (c, at: number) =>
    c === '\u001b' && SGR.test(text.slice(at, at + 16)) ? c : hex(c),
  );
}

/** A copy of plain data (a trace, a report) with every string in it escaped by {@link escapeControls}. */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeDeep(v);
    return out as T;
  }
  return value;
}

/** The longest input a message quotes whole. */
export const QUOTED_MAX = 100;

/**
 * Input as a message quotes it: in single quotes, cut after QUOTED_MAX characters (never inside a surrogate pair)
 * with its length said, so a pasted file or a 200,000-character argument is not echoed back whole. Not escaped:
 * control characters are escaped where the message is printed (escapeControls).
 */
export function quoted(value: string): string {
  if (value.length <= QUOTED_MAX) return `'${value}'`;
  const cut = /[\uDC00-\uDFFF]/.test(value[QUOTED_MAX]) ? QUOTED_MAX - 1 : QUOTED_MAX;
  return `'${value.slice(0, cut)}…' (${value.length.toLocaleString('en-US')} characters)`;
}
