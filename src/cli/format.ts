/**
 * The three lint output formats. Offsets become line/column here, at the edge, once: `text` prints 1-based
 * lines and columns like compilers; `json` prints 0-based LSP positions in the binding shape of issue 4;
 * `sarif` prints SARIF 2.1.0 with 1-based regions.
 */
import {
  escapeControls,
  LineIndex,
  type CodeInfo,
  type LineColumn,
  type Problem,
  type Severity,
  type Span,
} from '../core';

export type Format = 'text' | 'json' | 'sarif';
export const FORMATS: readonly Format[] = ['text', 'json', 'sarif'];

export interface LintReport {
  readonly diagnostics: readonly Problem[];
  /** Text of every file read, by absolute path. */
  readonly texts: ReadonlyMap<string, string>;
  /** Turns an absolute path into the path shown. */
  readonly display: (file: string) => string;
  readonly version: string;
  readonly codes: readonly CodeInfo[];
}

interface Range {
  readonly start: LineColumn;
  readonly end: LineColumn;
}

function ranger(report: LintReport): (span: Span) => Range {
  const indexes = new Map<string, LineIndex>();
  return (span) => {
    let index = indexes.get(span.file);
    if (!index) {
      index = new LineIndex(report.texts.get(span.file) ?? '');
      indexes.set(span.file, index);
    }
    return { start: index.positionAt(span.start), end: index.positionAt(span.end) };
  };
}

export function formatText(report: LintReport): string {
  const range = ranger(report);
  const lines = report.diagnostics.map((d) => {
    const { start } = range(d.span);
    const where = d.span.file
      ? `${escapeControls(report.display(d.span.file))}:${start.line + 1}:${start.character + 1}`
      : 'netpath';
    // A message quotes names from the files: one diagnostic stays one line, with no control characters.
    return `${where} ${d.severity} ${d.code} ${escapeControls(d.message)}`;
  });
  const count = (s: Severity) => report.diagnostics.filter((d) => d.severity === s).length;
  if (report.diagnostics.length)
    lines.push(`${count('error')} error(s), ${count('warning')} warning(s), ${count('info') + count('hint')} info`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function formatJson(report: LintReport): string {
  const range = ranger(report);
  const diagnostics = report.diagnostics.map((d) => ({
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: report.display(d.span.file),
    range: range(d.span),
    related: d.related.map((r) => ({ file: report.display(r.span.file), range: range(r.span), message: r.message })),
  }));
  return `${JSON.stringify({ diagnostics }, null, 2)}\n`;
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  error: 'error',
  warning: 'warning',
  info: 'note',
  hint: 'note',
};

export function formatSarif(report: LintReport): string {
  const range = ranger(report);
  const ruleIndex = new Map(report.codes.map((c, i) => [c.code, i]));
  const location = (span: Span) => {
    const r = range(span);
    return {
      physicalLocation: {
        artifactLocation: { uri: encodeURI(report.display(span.file)) },
        region: {
          startLine: r.start.line + 1,
          startColumn: r.start.character + 1,
          endLine: r.end.line + 1,
          endColumn: r.end.character + 1,
        },
      },
    };
  };
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'netpath',
            version: report.version,
            informationUri: 'https://netpath.dev/docs/diagnostics',
            rules: report.codes.map((c) => ({
              id: c.code,
              shortDescription: { text: c.description },
              defaultConfiguration: { level: LEVEL[c.severity] },
              helpUri: `https://netpath.dev/docs/diagnostics#${c.code.replace(/\./g, '')}`,
            })),
          },
        },
        results: report.diagnostics.map((d) => ({
          ruleId: d.code,
          ...(ruleIndex.has(d.code) ? { ruleIndex: ruleIndex.get(d.code) } : {}),
          level: LEVEL[d.severity],
          message: { text: d.message },
          locations: d.span.file ? [location(d.span)] : [],
          ...(d.related.length
            ? {
                relatedLocations: d.related
                  .filter((r) => r.span.file)
                  .map((r, id) => ({ id, ...location(r.span), message: { text: r.message } })),
              }
            : {}),
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

export function format(kind: Format, report: LintReport): string {
  return kind === 'json' ? formatJson(report) : kind === 'sarif' ? formatSarif(report) : formatText(report);
}
