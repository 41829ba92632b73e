/** Every command of the extension, declared as a data table (id, what it does); `wire` registers them. */
import * as vscode from 'vscode';
import {
  destinationChoices,
  nodeRulesText,
  parseEndpoint,
  sourceChoices,
  type EndpointChoice,
  type Topology,
} from '../core';
import type { TraceRequest } from '../protocol/messages';
import { runVerify, VerifyInterrupted } from '../lab';
import { log } from './log';
import type { Analyses } from './analyses';
import type { Views } from './views';
import { STARTER_TOPOLOGY } from './starter';
import { isManifestDocument, isReadLanguage } from './files';
import { TRACE_PROTOCOLS } from '../protocol/messages';

export interface Services {
  readonly analyses: Analyses;
  readonly views: Views;
  readonly extensionUri: vscode.Uri;
}

/** Arguments a command may receive from tests, CodeLens or the walkthrough; all optional. */
interface Target {
  /** URI string of a topology file. */
  readonly file?: string;
  readonly node?: string;
  /** Trace endpoints in the tracer's syntax (`pod/default/a`, `svc/default/web:http`, ...). */
  readonly from?: string;
  readonly to?: string;
  readonly proto?: TraceRequest['proto'];
  /** Verify on Linux Kernel: skip the confirmation (tests, and a user who already confirmed). */
  readonly confirmed?: boolean;
  /** Show NetworkPolicy Reachability: the port to open the matrix on (`TCP/8080`). */
  readonly port?: string;
}

function refuse(message: string): undefined {
  void vscode.window.showWarningMessage(`NetPath: ${message}`);
  return undefined;
}

const TYPED = '$(edit) Type an address…';

/** A quick pick of endpoints plus "type an address"; resolves to an endpoint string or undefined. */
async function pickEndpoint(
  title: string,
  choices: EndpointChoice[],
  placeholder: string,
  validate: (text: string) => string | undefined,
): Promise<EndpointChoice | string | undefined> {
  const items: (vscode.QuickPickItem & { choice?: EndpointChoice })[] = [
    ...choices.map((c) => ({ label: c.label, description: c.description, detail: c.endpoint, choice: c })),
    { label: TYPED, description: placeholder },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title,
    matchOnDescription: true,
    matchOnDetail: true,
    placeHolder: 'Type to filter',
  });
  if (!picked) return undefined;
  if (picked.choice) return picked.choice;
  return vscode.window.showInputBox({ title, prompt: placeholder, validateInput: validate });
}

const validateEndpoint = (text: string) => {
  const parsed = parseEndpoint(text.trim());
  return parsed.ok ? undefined : parsed.message;
};

/**
 * The flow to trace: `arg`'s, asking for whatever it leaves open (source, destination, protocol). `model` gives the topology to choose from, asked for
 * only when there is a choice to make: the extension host builds its model then (a trace with all it needs, from a
 * CodeLens or the walkthrough, is traced by the analysis worker on its own model, and builds none here).
 */
async function traceRequest(model: () => Topology, arg: Target | undefined): Promise<TraceRequest | undefined> {
  let from = arg?.from;
  if (!from) {
    const picked = await pickEndpoint(
      'Trace Packet: from where? (1/3)',
      sourceChoices(model()),
      'an address, e.g. 10.244.1.10 or 192.168.56.100',
      validateEndpoint,
    );
    if (!picked) return undefined;
    from = typeof picked === 'string' ? picked.trim() : picked.endpoint;
  }
  let to = arg?.to;
  let proto = arg?.proto;
  if (!to) {
    const picked = await pickEndpoint(
      `Trace Packet: from ${from} to where? (2/3)`,
      destinationChoices(model(), from),
      'ip:port, e.g. 10.96.0.10:80 or [fd00::a]:80',
      validateEndpoint,
    );
    if (!picked) return undefined;
    to = typeof picked === 'string' ? picked.trim() : picked.endpoint;
    if (typeof picked !== 'string') proto = proto ?? picked.proto;
  }
  // A Service without a port (e.g. from the topology view's context menu): pick one of its ports.
  const svc = /^svc\/(?:([^/:]+)\/)?([^/:]+)$/.exec(to);
  if (svc) {
    const service = model().services.find((x) => x.name === svc[2] && x.namespace === (svc[1] ?? 'default'));
    const ports = service?.ports ?? [];
    const port =
      ports.length === 1
        ? ports[0]
        : await vscode.window
            .showQuickPick(
              ports.map((p) => ({ label: p.name || String(p.port), description: `${p.port}/${p.protocol}`, port: p })),
              { title: `Trace Packet: which port of ${to}?` },
            )
            .then((x) => x?.port);
    if (!port) return undefined;
    to = `${to}:${port.name || port.port}`;
    proto = proto ?? (port.protocol.toLowerCase() as TraceRequest['proto']);
  }
  // A pod declares no port here (e.g. a CodeLens on a pod without ports): ask which port to reach.
  if (/^pod\/[^:]+$/.test(to) && proto !== 'icmp') {
    const port = await vscode.window.showInputBox({
      title: `Trace Packet: which port of ${to}?`,
      prompt: 'A port number or a container port name',
      validateInput: (v) => (/^\d{1,5}$|^[a-z][a-z0-9-]*$/i.test(v.trim()) ? undefined : 'A port number or a name'),
    });
    if (!port) return undefined;
    to = `${to}:${port.trim()}`;
  }
  if (!proto) {
    const picked = await vscode.window.showQuickPick([...TRACE_PROTOCOLS], {
      title: `Trace Packet: ${from} → ${to}: which protocol? (3/3)`,
    });
    if (!picked) return undefined;
    proto = picked as TraceRequest['proto'];
  }
  return { from, to, proto };
}

async function topologyDocument(target: Target | undefined): Promise<vscode.TextDocument | undefined> {
  if (target?.file) return vscode.workspace.openTextDocument(vscode.Uri.parse(target.file));
  const active = vscode.window.activeTextEditor?.document;
  if (active && (active.languageId === 'yaml' || (isReadLanguage(active.languageId) && isManifestDocument(active))))
    return active;
  const found = await vscode.workspace.findFiles('**/*.{netpath,topology}.{yaml,yml}', '**/node_modules/**', 20);
  if (!found.length) {
    void vscode.window.showInformationMessage(
      'NetPath: open a topology file (*.netpath.yaml) first, or create one with "NetPath: New Topology File".',
    );
    return undefined;
  }
  const pick =
    found.length === 1
      ? found[0]
      : (
          await vscode.window.showQuickPick(
            found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
            { title: 'Which topology?' },
          )
        )?.uri;
  return pick ? vscode.workspace.openTextDocument(pick) : undefined;
}

/**
 * The walkthrough's traces: the four kinds of communication on the bundled two-node lab, and the same pod-to-pod
 * request on the lab wired by other CNI plug-ins (media/walkthrough/<kind>.netpath.yaml, copies of examples/).
 */
const POD_TO_POD: Target = { from: 'pod/default/client', to: 'pod/default/web-2:8080', proto: 'tcp' };
const WALKTHROUGH: Record<string, Target & { example?: string }> = {
  container: { from: 'pod/default/client:shell', to: 'localhost:9090', proto: 'tcp' },
  pod: POD_TO_POD,
  service: { from: 'pod/default/client', to: 'svc/default/web:http', proto: 'tcp' },
  external: { from: 'external/laptop', to: 'node/node1:30080', proto: 'tcp' },
  'cni-ptp': { ...POD_TO_POD, example: 'cni-ptp' },
  'cni-flannel-vxlan': { ...POD_TO_POD, example: 'cni-flannel-vxlan' },
  'cni-calico': { ...POD_TO_POD, example: 'cni-calico' },
  'cni-calico-vxlan': { ...POD_TO_POD, example: 'cni-calico-vxlan' },
};

/** The walkthrough's editable copy of the example with mistakes, once opened. */
let mistakesDocument: vscode.TextDocument | undefined;

export const NODE_RULES_SCHEME = 'netpath-rules';

/** `netpath-rules:/<node>.rules?<topology uri>`: the generated iptables-save text of one node. */
function nodeRulesUri(topology: vscode.Uri, node: string): vscode.Uri {
  return vscode.Uri.from({ scheme: NODE_RULES_SCHEME, path: `/${node}.rules`, query: topology.toString() });
}

export function nodeRulesProvider(analyses: Analyses): vscode.TextDocumentContentProvider {
  return {
    async provideTextDocumentContent(uri) {
      const node = uri.path.replace(/^\//, '').replace(/\.rules$/, '');
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri.query));
      const analysis = await analyses.analysisFor(doc);
      return (
        (analysis && nodeRulesText(analysis.topology, node)) ?? `# NetPath: no node '${node}' in ${doc.uri.path}\n`
      );
    },
  };
}

export const COMMANDS: Record<string, (s: Services, arg?: Target) => Promise<unknown>> = {
  'netpath.tracePacket': async ({ analyses, views }, arg) => {
    const doc = await topologyDocument(arg);
    const analysis = doc && (await analyses.analysisFor(doc));
    if (!doc || !analysis) {
      void vscode.window.showWarningMessage('NetPath: this file is not part of a NetPath topology.');
      return undefined;
    }
    const request = await traceRequest(() => analysis.topology, arg);
    if (!request) return undefined;
    return views.open({ view: 'trace', file: doc.uri.toString(), request });
  },

  'netpath.showTopology': async ({ views }, arg) => {
    const doc = await topologyDocument(arg);
    if (!doc) return undefined;
    return views.open({ view: 'topology', file: doc.uri.toString() });
  },

  // The reachability matrix; a CodeLens on a NetworkPolicy opens it on the policy's namespace.
  'netpath.showReachability': async ({ analyses, views }, arg) => {
    const doc = await topologyDocument(arg);
    const analysis = doc && (await analyses.analysisFor(doc));
    if (!doc || !analysis) {
      void vscode.window.showWarningMessage('NetPath: this file is not part of a NetPath topology.');
      return undefined;
    }
    if (!analysis.topology.pods.length)
      return refuse('this topology has no pods: the reachability matrix is between pods.');
    return views.open({
      view: 'reach',
      file: doc.uri.toString(),
      query: { from: arg?.from ?? '', to: arg?.to ?? '', port: arg?.port ?? '' },
    });
  },

  'netpath.showNodeRules': async ({ analyses }, arg) => {
    const doc = await topologyDocument(arg);
    const analysis = doc && (await analyses.analysisFor(doc));
    if (!doc || !analysis) {
      void vscode.window.showWarningMessage('NetPath: this file is not part of a NetPath topology.');
      return undefined;
    }
    const names = analysis.topology.nodes.map((n) => n.name);
    const node =
      arg?.node ??
      (names.length === 1
        ? names[0]
        : await vscode.window.showQuickPick(names, { title: 'Show the iptables rules of which node?' }));
    if (!node) return undefined;
    if (!names.includes(node)) {
      void vscode.window.showWarningMessage(`NetPath: there is no node '${node}' in this topology.`);
      return undefined;
    }
    // A virtual document of its own scheme: read-only, regenerated from the current analysis when opened.
    // In the language of what kube-proxy writes there (syntaxes/: iptables-save, or nft, whose grammar also
    // reads the other authors' iptables lines), which also wraps the long rule lines.
    const shown = await vscode.languages.setTextDocumentLanguage(
      await vscode.workspace.openTextDocument(nodeRulesUri(doc.uri, node)),
      analysis.topology.cluster.kubeProxy.mode === 'nftables' ? 'nftables' : 'iptables-save',
    );
    return vscode.window.showTextDocument(shown, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  },

  'netpath.walkthroughTrace': async (services, arg) => {
    const kind = (arg as { kind?: string } | undefined)?.kind ?? '';
    const found = Object.hasOwn(WALKTHROUGH, kind) ? WALKTHROUGH[kind] : undefined;
    if (!found) return undefined;
    const { example = 'two-node-lab', ...target } = found;
    const uri = vscode.Uri.joinPath(services.extensionUri, 'media', 'walkthrough', `${example}.netpath.yaml`);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    return COMMANDS['netpath.tracePacket'](services, { file: uri.toString(), ...target });
  },

  // The walkthrough's "Find and fix mistakes": an editable copy of the bundled example, then its quick fixes.
  'netpath.walkthroughMistakes': async ({ extensionUri }) => {
    const bundled = vscode.Uri.joinPath(extensionUri, 'media', 'walkthrough', 'mistakes.netpath.yaml');
    const content = new TextDecoder().decode(await vscode.workspace.fs.readFile(bundled));
    // Untitled, so the quick fixes can edit it and the bundled file stays as shipped; Save As keeps it.
    const doc = await vscode.workspace.openTextDocument({ content, language: 'yaml' });
    mistakesDocument = doc;
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    return doc;
  },

  'netpath.walkthroughFix': async ({ analyses }) => {
    const doc =
      mistakesDocument && !mistakesDocument.isClosed ? mistakesDocument : vscode.window.activeTextEditor?.document;
    if (!doc) return refuse('open the example with mistakes first.');
    await vscode.window.showTextDocument(doc);
    // One preferred fix at a time, analysing again in between: a fix changes what the next one should do.
    const applied: string[] = [];
    for (let round = 0; round < 20; round++) {
      const state = await analyses.topologyFor(doc);
      const analysis = state && (await analyses.run(state));
      const next = analysis?.diagnostics.find(
        (d) =>
          d.span.file === doc.uri.path &&
          d.fixes.some((f) => f.preferred && f.edits.every((e) => e.span.file === doc.uri.path)),
      );
      if (!next) break;
      const fix = next.fixes.find((f) => f.preferred);
      if (!fix) break; // `next` was chosen for having one.
      const edit = new vscode.WorkspaceEdit();
      for (const e of fix.edits)
        edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.span.start), doc.positionAt(e.span.end)), e.newText);
      if (!(await vscode.workspace.applyEdit(edit))) break;
      applied.push(`${next.code}: ${fix.title}`);
      log.info(`walkthrough quick fix ${next.code}: ${fix.title}`);
    }
    const state = await analyses.topologyFor(doc);
    if (state) await analyses.run(state);
    void vscode.window.showInformationMessage(
      applied.length
        ? `NetPath applied ${applied.length} quick fix${applied.length === 1 ? '' : 'es'}: ${applied.map((a) => a.split(':')[0]).join(', ')}. The Problems panel shows what is left to fix by hand.`
        : 'NetPath: no quick fix is left to apply here.',
    );
    return applied;
  },

  'netpath.verifyKernel': async ({ analyses, views }, arg) => {
    const doc = await topologyDocument(arg);
    const analysis = doc && (await analyses.analysisFor(doc));
    if (!doc || !analysis) {
      void vscode.window.showWarningMessage('NetPath: this file is not part of a NetPath topology.');
      return undefined;
    }
    // The package.json `enablement` hides the command elsewhere; these checks give a reason when it is run anyway.
    if (process.platform !== 'linux') return refuse('Verify on Linux Kernel runs only on Linux.');
    if (!vscode.workspace.isTrusted)
      return refuse('Verify on Linux Kernel runs processes: trust this workspace first.');
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'vscode-remote')
      return refuse("Verify on Linux Kernel needs the topology on this machine's disk.");
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      return refuse(
        `Verify on Linux Kernel creates network namespaces, which needs root. Run it from a terminal instead: sudo netpath verify ${doc.uri.fsPath}`,
      );
    }
    if (!arg?.confirmed) {
      const go = 'Build the lab';
      const answer = await vscode.window.showWarningMessage(
        `Verify "${analysis.topology.name}" on the Linux kernel?`,
        {
          modal: true,
          detail:
            "NetPath will run `ip netns`, `iptables-nft-restore`, `conntrack` and small listeners as root, inside network namespaces it creates and removes again. It never touches this machine's own interfaces, routes or rules.",
        },
        go,
      );
      if (answer !== go) return undefined;
    }
    const entries = [doc.uri.fsPath];
    log.info(`verify on the Linux kernel: ${entries.join(', ')}`);
    const report = await vscode.window
      .withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'NetPath: verifying on the Linux kernel',
          // Cancel stops the run as Ctrl-C stops `netpath verify`: no further command starts, the lab is removed.
          cancellable: true,
        },
        async (progress, token) => {
          const stop = new AbortController();
          const cancelled = token.onCancellationRequested(() => stop.abort('Cancel'));
          let last = 0;
          try {
            return await runVerify(entries, { signal: stop.signal }, (message, done, total) => {
              const increment = total ? ((done ?? 0) / total) * 100 - last : undefined;
              if (increment !== undefined) last += increment;
              progress.report({ message, increment });
            });
          } finally {
            cancelled.dispose();
          }
        },
      )
      .then(undefined, (e: unknown) => {
        if (e instanceof VerifyInterrupted) {
          log.info(`verify: ${e.message}`);
          const notice = `NetPath: verify ${e.message}.`;
          analyses.notices.push(notice);
          void vscode.window.showInformationMessage(notice);
          return undefined;
        }
        void vscode.window.showErrorMessage(`NetPath: the kernel lab could not run: ${(e as Error).message}`);
        log.error(`verify failed: ${(e as Error).stack ?? String(e)}`);
        return undefined;
      });
    if (!report) return undefined;
    const agreeing = report.flows.filter((f) => f.agree).length;
    log.info(`verify: ${agreeing}/${report.flows.length} flows agree`);
    await views.openVerify(doc.uri.toString(), report);
    void (report.agree
      ? vscode.window.showInformationMessage(
          `NetPath: the kernel agrees with the tracer on all ${report.flows.length} flows.`,
        )
      : vscode.window.showWarningMessage(
          `NetPath: the kernel disagrees with the tracer on ${report.flows.length - agreeing} of ${report.flows.length} flows.`,
        ));
    return report;
  },

  'netpath.newTopologyFile': async () => {
    const doc = await vscode.workspace.openTextDocument({ content: STARTER_TOPOLOGY, language: 'yaml' });
    return vscode.window.showTextDocument(doc);
  },
};
