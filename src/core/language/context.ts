/**
 * Where the cursor is in a YAML file that is being typed, read from the text itself: the key path of the
 * collection it is in, and whether a key or a value is being typed. The syntax tree of an unfinished
 * line (`node: `, `selector: {ap`) often lacks the very node being typed, so this reads indentation and
 * flow brackets instead. Array items appear as `[]` in paths, as in `schemaAt`.
 */

export interface CursorContext {
  /** Keys from the document root to the mapping the cursor is in. */
  readonly path: readonly string[];
  /** The key whose value is being typed; undefined while a key is being typed. */
  readonly key: string | undefined;
  /** What has been typed of the value (or key) so far, without a leading quote. */
  readonly prefix: string;
  /** Offset where `prefix` starts. */
  readonly start: number;
  /** The cursor is right after `key:` with no space yet: an inserted value needs one. */
  readonly needsSpace: boolean;
  /** The text of the YAML document the cursor is in. */
  readonly document: string;
}

interface LineShape {
  readonly indent: number;
  readonly dashCols: readonly number[];
  readonly key: string | undefined;
  readonly keyCol: number;
  readonly hasValue: boolean;
}

const KEY = /^("[^"]*"|'[^']*'|[^\s:#{}[\],"'][^:#]*?)\s*:(?:\s+(.*))?$/s;

const unquote = (k: string) => (/^(["']).*\1$/.test(k) ? k.slice(1, -1) : k);

function shape(line: string): LineShape | undefined {
  const code = line.replace(/(^|\s)#.*$/, '');
  if (!code.trim()) return undefined;
  // `s`: a lone carriage return inside a line is text, not the end of the match.
  const m = /^(\s*)((?:-(?:\s+|$))*)(.*)$/s.exec(code);
  if (!m) return undefined;
  const dashCols: number[] = [];
  let col = m[1].length;
  for (const part of m[2].match(/-\s*/g) ?? []) {
    dashCols.push(col);
    col += part.length;
  }
  const k = KEY.exec(m[3].trimEnd());
  return {
    indent: m[1].length,
    dashCols,
    key: k ? unquote(k[1]) : undefined,
    keyCol: m[1].length + m[2].length,
    hasValue: !!k?.[2]?.trim(),
  };
}

/** Parent keys of a node at column `col` on line `lineNo`, found by indentation. */
function ancestors(
  lines: readonly string[],
  lineNo: number,
  first: number,
  col: number,
  kind: 'key' | 'item',
): string[] {
  const path: string[] = [];
  const enterDashes = (s: LineShape) => {
    for (let i = 0; i < s.dashCols.length; i++) path.unshift('[]');
    col = s.dashCols[0];
    kind = 'item';
  };
  for (let l = lineNo - 1; l >= first && (col > 0 || kind === 'item'); l--) {
    const s = shape(lines[l]);
    if (!s) continue;
    if (kind === 'key') {
      if (s.dashCols.length && s.keyCol === col)
        enterDashes(s); // a sibling key on the item's first line
      else if (s.dashCols.length && !s.key && s.keyCol <= col && s.indent < col)
        enterDashes(s); // a bare `-`
      else if (s.indent < col && s.key !== undefined && s.keyCol < col) {
        path.unshift(s.key);
        if (s.dashCols.length) enterDashes(s);
        else col = s.keyCol;
      }
    } else {
      if (s.indent > col || s.dashCols.includes(col)) continue;
      if (s.key !== undefined && s.keyCol <= col && !s.hasValue) {
        path.unshift(s.key);
        if (s.dashCols.length) enterDashes(s);
        else {
          col = s.keyCol;
          kind = 'key';
        }
      } else if (s.indent < col) break;
    }
  }
  return path;
}

/** The context of the cursor at `offset` of `text`. */
export function cursorContext(text: string, offset: number): CursorContext {
  const lines = text.slice(0, offset).split(/\r?\n/);
  const lineNo = lines.length - 1;
  let first = 0;
  for (let l = lineNo - 1; l >= 0; l--) {
    if (/^(---|\.\.\.)(\s|$)/.test(lines[l])) {
      first = l + 1;
      break;
    }
  }
  const docStart = lines.slice(0, first).reduce((n, l) => n + l.length + 1, 0);
  const nextSeparator = text.slice(offset).search(/^---(\s|$)/m);
  const document = text.slice(docStart, nextSeparator < 0 ? text.length : offset + nextSeparator);
  const before = lines[lineNo];
  const lead = /^(\s*)((?:-\s+)*)/.exec(before) ?? ['', '', ''];
  const rest = before.slice(lead[0].length);

  // Flow collections on this line: `{` opens a mapping, `[` a sequence; `,` starts a new entry.
  const stack: { ch: string; at: number; segStart: number }[] = [];
  let segStart = 0;
  let quote: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && /(^|[\s{[,:])$/.test(rest.slice(0, i))) quote = c;
    else if (c === '{' || c === '[') {
      stack.push({ ch: c, at: i, segStart });
      segStart = i + 1;
    } else if (c === '}' || c === ']') segStart = stack.pop()?.segStart ?? segStart;
    else if (c === ',' && stack.length) segStart = i + 1;
  }
  const flowPath: string[] = [];
  for (const s of stack) {
    const k = /([^\s:{}[\],]+)\s*:\s*$/.exec(rest.slice(s.segStart, s.at));
    if (k) flowPath.push(unquote(k[1]));
    if (s.ch === '[') flowPath.push('[]');
  }
  const indent = lead[1].length;
  const dashes = (lead[2].match(/-/g) ?? []).length;
  const block = dashes
    ? [...ancestors(lines, lineNo, first, indent, 'item'), ...Array<string>(dashes).fill('[]')]
    : ancestors(lines, lineNo, first, indent, 'key');
  const path = [...block, ...flowPath];

  const segment = rest.slice(segStart);
  const kv = /^\s*("[^"]*"|'[^']*'|[^\s:{}[\],"'][^:]*?)\s*:(\s*)(.*)$/.exec(segment);
  const inSeq = stack.length > 0 && stack[stack.length - 1].ch === '[';
  if (kv && !inSeq) {
    const typed = kv[3].replace(/^["']/, '');
    return {
      path,
      key: unquote(kv[1]),
      prefix: typed,
      start: offset - typed.length,
      needsSpace: kv[2] === '' && kv[3] === '',
      document,
    };
  }
  const typed = segment.trimStart().replace(/^["']/, '');
  return { path, key: undefined, prefix: typed, start: offset - typed.length, needsSpace: false, document };
}
