import { analyse } from '../../../src/core';
import type { Analysis } from '../../../src/core';

/** Analyses inline YAML files (path -> text); the first file is the entry. */
export function analyseYaml(files: Record<string, string> | string): Analysis {
  const map = typeof files === 'string' ? { '/t/topology.netpath.yaml': files } : files;
  return analyse(Object.entries(map).map(([path, text]) => ({ path, text })));
}

export const codes = (a: Analysis) => a.diagnostics.map((d) => d.code);

/** Codes the model builder reports (structure), without the rules' findings about the network. */
export const modelCodes = (a: Analysis) => codes(a).filter((c) => /^(yaml|schema|ref|name|k8s|include)\./.test(c));

/** The text a span covers, to assert positions without counting offsets by hand. */
export function spanText(a: Analysis, span: { file: string; start: number; end: number }): string {
  const src = a.sources.find((s) => s.path === span.file);
  return src ? src.text.slice(span.start, span.end) : '';
}

export const HEADER = 'apiVersion: netpath.dev/v1alpha1\nkind: Topology\n';
