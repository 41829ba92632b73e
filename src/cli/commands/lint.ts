import {
  DIAGNOSTIC_CODES,
  escapeControls,
  inventory,
  lintFiles,
  type FileInventory,
  type Inventory,
  type Problem,
} from '../../core';
import { CliError, EXIT, type Command, quoted } from '../command';
import { format, FORMATS, type Format } from '../format';
import { displayPath, loadEntries, readOnceHost, topologiesOf } from '../host';
import { LOAD_USAGE, loadOptions, readLoadOption, type ArgumentOptions, type Collected } from '../load-options';
import { VERSION } from '../version';
import { isOneOf } from '../../core/lookup';

const USAGE = `Usage: netpath lint [--format text|json|sarif] [--allow-outside DIR]... <file|folder>...

Reads every file given and every *.yaml/*.yml under the folders given (skipping node_modules and .git),
with what their include: entries pull in, and prints the diagnostics of each topology they hold. As in the
editor, every NetPath document is its own topology; a Kubernetes manifest no NetPath document includes goes
with the NetPath document of its folder (or the nearest parent folder with one); manifests with no NetPath
document above them are one topology per argument. So \`netpath lint examples/\` checks each example alone.

Options:
  --format text|json|sarif   text: file:line:col severity code message (default)
                             json: {"diagnostics": [...]} with 0-based LSP positions
                             sarif: SARIF 2.1.0 for code-scanning services
${LOAD_USAGE}
  -h, --help                 show this help

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O error.`;

function parse(args: readonly string[]): { format: Format; paths: string[]; load: ArgumentOptions } {
  let kind: Format = 'text';
  const paths: string[] = [];
  const load: Collected = { allowOutside: [], maxFileSizeKB: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    let value: string | undefined;
    const loadOption = readLoadOption(args, i, load);
    if (loadOption) i = loadOption.next;
    else if (a === '--format' || a === '-f') {
      value = args[++i];
      if (value === undefined) throw new CliError(`${a} needs a value: text, json or sarif`);
    } else if (a.startsWith('--format=')) value = a.slice('--format='.length);
    else if (a === '--') {
      paths.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-')
      throw new CliError(`unknown option ${quoted(a)} (see netpath lint --help)`);
    else paths.push(a);
    if (value !== undefined) {
      if (!isOneOf(FORMATS, value)) throw new CliError(`unknown format ${quoted(value)}: use text, json or sarif`);
      kind = value;
    }
  }
  if (!paths.length) throw new CliError('lint needs at least one file or folder (see netpath lint --help)');
  return { format: kind, paths, load: loadOptions(load) };
}

export const lint: Command = {
  name: 'lint',
  summary: 'check topology and Kubernetes files for network misconfigurations',
  usage: USAGE,
  async run(args, io) {
    const { format: kind, paths, load } = parse(args);
    // Symbolic links in folders that lead outside the workspace or to nothing: reported, never followed silently.
    const links: Problem[] = [];
    const files = readOnceHost();
    const groups = await topologiesOf(paths, io.cwd, load, links, files);
    const texts = new Map<string, string>();
    const diagnostics: Problem[] = [...links];
    const seen = new Set<string>();
    const read = new Map<string, FileInventory>();
    for (const group of groups) {
      const loaded = await loadEntries(group.entries, paths, io.cwd, load, files);
      for (const f of loaded.files) texts.set(f.path, f.text);
      // A file two topologies read (a manifest next to two NetPath documents) reports a finding once.
      // Only the diagnostics and what each file holds are kept: the syntax trees go before the rules run (lintFiles).
      // A file loading parsed for its includes is analysed as parsed (takeParsed), not parsed again.
      const analysis = lintFiles(loaded.files, { parse: files.takeParsed });
      for (const f of analysis.read) read.set(f.file, f);
      for (const d of [...loaded.problems, ...analysis.diagnostics]) {
        const key = `${d.code}\u0000${d.span.file}\u0000${d.span.start}\u0000${d.span.end}\u0000${d.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        diagnostics.push(d);
      }
    }
    io.out(
      format(kind, {
        diagnostics,
        texts,
        display: (file) => displayPath(file, io.cwd),
        version: VERSION,
        codes: DIAGNOSTIC_CODES,
      }),
    );
    // Nothing to check is said, not left silent: what was read, and why none of it was analysed.
    const held = inventory([...read.values()]);
    if (kind === 'text' && !diagnostics.length && held.analysed === 0) io.out(`${nothingAnalysed(held)}\n`);
    return diagnostics.some((d) => d.severity === 'error') ? EXIT.findings : EXIT.ok;
  },
};

/** The text line for a set of files none of which NetPath analyses. */
export function nothingAnalysed(read: Inventory): string {
  const kinds = read.kinds.map((k) => `${k.count} ${escapeControls(k.kind)}`).join(', ') || 'no Kubernetes objects';
  return `netpath: read ${read.files} file(s) (${kinds}); none is of a kind NetPath checks, so there is nothing to check. NetPath checks NetPath documents, Nodes, Pods, Services, EndpointSlices, Endpoints, NetworkPolicies, and kube-proxy, kubeadm, kind and ip-masq-agent configurations; workloads (Deployment, StatefulSet, DaemonSet, ...) and Namespaces only count for the Services and NetworkPolicies next to them (docs/topology-format.md).`;
}
