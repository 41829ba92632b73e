/**
 * The editor experience in a real extension host: diagnostics that follow edits, quick fixes applied
 * through the Code Action API, severity settings, the size limit, tracing with preselected arguments,
 * and the walkthrough contribution. Documents are untitled buffers, so the fixture files stay as they are.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  EXTENSION_ID,
  activateNetPath,
  allTabs,
  codeOf,
  fixtureUri,
  FIXTURE,
  hoverText,
  positionOf,
  waitFor,
} from './helpers';
import type { Services } from '../../src/vscode/commands';
import { netpathCluster } from '../../bench/cluster';
import { analyse, groupOf, type Problem } from '../../src/core';
import { compactSummary, traceViewData } from '../../src/vscode/view-data';
import { topologiesOf } from '../../src/lab/files';

const LAB = `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: editor-lab}
cluster:
  podCIDRs: [10.244.0.0/16]
  serviceCIDRs: [10.244.0.0/16]
networks:
  - {name: lan, cidr: 192.168.56.0/24}
nodes:
  - name: node1
    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]
    podCIDR: 10.244.1.0/24
`;

async function untitled(content: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content });
  await vscode.window.showTextDocument(doc);
  return doc;
}

const codesOf = (doc: vscode.TextDocument) => vscode.languages.getDiagnostics(doc.uri).map(codeOf);

function waitForCodes(doc: vscode.TextDocument, what: string, test: (codes: (string | undefined)[]) => boolean) {
  return waitFor(what, () => (test(codesOf(doc)) ? codesOf(doc) : undefined), {
    events: [vscode.languages.onDidChangeDiagnostics],
  });
}

async function replace(doc: vscode.TextDocument, needle: string, text: string): Promise<void> {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the document`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + needle.length)), text);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

suite('Diagnostics follow the text', () => {
  suiteSetup(activateNetPath);

  test('appear on open and go away after an edit that fixes them', async () => {
    const doc = await untitled(LAB);
    await waitForCodes(doc, 'cidr.overlap on open', (c) => c.includes('cidr.overlap'));
    await replace(doc, 'serviceCIDRs: [10.244.0.0/16]', 'serviceCIDRs: [10.96.0.0/12]');
    await waitForCodes(doc, 'no cidr.overlap after the edit', (c) => !c.includes('cidr.overlap'));
    await replace(doc, 'podCIDR: 10.244.1.0/24', 'podCIDR: 10.245.1.0/24');
    const codes = await waitForCodes(doc, 'cidr.node-outside-cluster after a second edit', (c) =>
      c.includes('cidr.node-outside-cluster'),
    );
    assert.ok(!codes.includes('cidr.overlap'));
  });

  test('carry related information that points at the other side of an overlap', async () => {
    const doc = await untitled(LAB);
    const d = await waitFor('an overlap with related information', () =>
      vscode.languages
        .getDiagnostics(doc.uri)
        .find((x) => codeOf(x) === 'cidr.overlap' && x.relatedInformation?.length),
    );
    assert.equal(d.source, 'netpath');
    const other = d.relatedInformation![0];
    assert.equal(doc.getText(other.location.range), '10.244.0.0/16');
    assert.notDeepEqual(other.location.range, d.range);
  });

  test('a severity setting of "off" hides a code, and removing it brings it back, without analysing again', async () => {
    const analyses = ((await activateNetPath()).exports as Services).analyses;
    const doc = await untitled(LAB);
    await waitForCodes(doc, 'cidr.overlap', (c) => c.includes('cidr.overlap'));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the document is a topology');
    // The model stage's diagnostics are on screen before the analysis ends: wait for it (no new analysis).
    await analyses.run(state);
    assert.ok(state.analysis, 'the topology was analysed');
    const published = analyses.counts.get(state.key)?.published;
    const config = vscode.workspace.getConfiguration('netpath');
    await config.update('severity', { 'cidr.overlap': 'off' }, vscode.ConfigurationTarget.Global);
    try {
      await waitForCodes(doc, 'cidr.overlap hidden', (c) => !c.includes('cidr.overlap'));
    } finally {
      await config.update('severity', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitForCodes(doc, 'cidr.overlap back', (c) => c.includes('cidr.overlap'));
    // Severity is applied when publishing: the analysis of the unchanged text was published again, not redone.
    assert.equal(analyses.counts.get(state.key)?.published, published, 'the topology was not analysed again');
  });
});

suite('Included files', () => {
  suiteSetup(activateNetPath);

  test('a manifest included by a NetPath document is analysed with it, and its edits update the including file', async () => {
    const lab = await vscode.workspace.openTextDocument(fixtureUri('included/lab.netpath.yaml'));
    const pods = await vscode.workspace.openTextDocument(fixtureUri('included/k8s/pods.yaml'));
    await vscode.window.showTextDocument(pods);
    await waitFor('the lab analysed without problems', () =>
      vscode.languages.getDiagnostics(lab.uri).length === 0 ? true : undefined,
    );
    await replace(pods, '10.244.1.20', '10.244.1.10');
    try {
      await waitForCodes(lab, 'ip.duplicate in the including file', (c) => c.includes('ip.duplicate'));
      await waitForCodes(pods, 'ip.duplicate in the manifest', (c) => c.includes('ip.duplicate'));
    } finally {
      await replace(pods, '10.244.1.10', '10.244.1.20');
    }
    await waitForCodes(lab, 'ip.duplicate gone after undoing', (c) => !c.includes('ip.duplicate'));
  });

  test('other YAML is left alone', async () => {
    const doc = await untitled(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: "many"}\n',
    );
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      new vscode.Position(1, 2),
    );
    assert.equal(hovers.length, 0);
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(codesOf(doc), []);
  });
});

suite("Hover in kube-proxy's nftables mode", () => {
  suiteSetup(activateNetPath);

  // Names as kube-proxy's own nftables proxier test expects them for ns1/svc1 (TestOverallNFTablesRules), from the
  // extension host: the unit tier checks the core's hover, this the hover the workbench shows.
  test("a Service's hover names kube-proxy's table, chains and verdict map element", async () => {
    const doc = await untitled(`apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata:
  name: nft-hover
cluster:
  podCIDRs: [10.180.0.0/16]
  serviceCIDRs: [172.30.0.0/16]
  kubeProxy:
    mode: nftables
networks:
  - name: lan
    cidr: 192.168.99.0/24
nodes:
  - name: node1
    interfaces:
      - {name: eth0, network: lan, address: 192.168.99.11/24}
    podCIDRs: [10.180.0.0/24]
services:
  - name: svc1
    namespace: ns1
    clusterIP: 172.30.0.41
    ports: [{name: p80, port: 80, targetPort: 80}]
    endpoints:
      - {ip: 10.180.0.1, node: node1}
`);
    // The hover waits for the document's analysis itself.
    const text = hoverText(
      await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        doc.uri,
        positionOf(doc, 'name: svc1', { offset: 7 }),
      ),
    );
    assert.match(text, /table `ip kube-proxy`: chains `service-ULMVA6XW-ns1\/svc1\/tcp\/p80`/);
    assert.match(
      text,
      /`@service-ips` element `172\.30\.0\.41 \. tcp \. 80 : goto service-ULMVA6XW-ns1\/svc1\/tcp\/p80`/,
    );
    assert.match(text, /`endpoint-5OJB2KTY-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80`/);
    assert.doesNotMatch(text, /KUBE-SVC-/, 'no iptables chain names in nftables mode');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});

suite('Quick fixes through the Code Action API', () => {
  suiteSetup(activateNetPath);

  const cases: [string, string, string][] = [
    ['cidr.host-bits', 'serviceCIDRs: [10.96.0.1/12]', 'serviceCIDRs: [10.96.0.0/12]'],
    ['cidr.overlap', 'serviceCIDRs: [10.244.0.0/16]', ''],
    ['schema.unknown-key', 'podCIRDs: [10.244.0.0/16]', 'podCIDRs: [10.244.0.0/16]'],
  ];
  for (const [code, broken, expected] of cases) {
    test(`the preferred fix for ${code} clears it`, async () => {
      const text =
        code === 'schema.unknown-key'
          ? LAB.replace('podCIDRs:', 'podCIRDs:').replace(
              'serviceCIDRs: [10.244.0.0/16]',
              'serviceCIDRs: [10.96.0.0/12]',
            )
          : LAB.replace('serviceCIDRs: [10.244.0.0/16]', broken);
      const doc = await untitled(text);
      const d = await waitFor(`a ${code} diagnostic`, () =>
        vscode.languages
          .getDiagnostics(doc.uri)
          .find((x) => codeOf(x) === code && doc.lineAt(x.range.start.line).text.includes(broken.split(':')[0])),
      );
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        d.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      // Only this diagnostic's range was asked for, so its fixes come first; the preferred one is what Ctrl+. applies.
      const fix = actions.find((a) => a.isPreferred) ?? actions[0];
      assert.ok(fix?.edit, `no quick fix for ${code}: ${actions.map((a) => a.title).join(', ')}`);
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      await waitFor(
        `${code} to clear at that place`,
        () =>
          vscode.languages
            .getDiagnostics(doc.uri)
            .some((x) => codeOf(x) === code && x.range.start.line === d.range.start.line)
            ? undefined
            : true,
        { events: [vscode.languages.onDidChangeDiagnostics] },
      );
      if (expected) assert.ok(doc.getText().includes(expected), `the fix wrote: ${doc.getText()}`);
    });
  }
});

suite('Analysis off the extension host thread', () => {
  suiteSetup(activateNetPath);

  test('runs in a worker; an edit during an analysis drops it unpublished, and each change is analysed once', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const text = netpathCluster({ name: 'worker', nodes: 100, pods: 3000, services: 100 });
    const doc = await untitled(text);
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const worker = analyses.workerFor(state);
    assert.ok(worker.threaded, 'the rules run in dist/analysis-worker.js, not on the extension host thread');
    // What the workbench asks after a publish (the outline and 3,000 lenses, converted on the host): done before the
    // edits, so that their answers are not what the counts below see. (Asked meanwhile, an edit took 1-4 s.)
    await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', doc.uri);
    await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri);
    const before = { ...analyses.counts.get(state.key)! };
    const threads = worker.started;
    const stoppedInPlace = worker.stoppedInPlace;
    // Two edits, each asking for an analysis at once (as a command or view would): the first is stopped. The first
    // edit's analysis waits after its model stage until it is cancelled, so the second edit surely comes while it runs
    // (the analysis of this cluster takes 0.1-0.3 s here now, an edit's trip through the workbench 0.05-0.4 s).
    await replace(doc, 'serviceCIDRs: [10.96.0.0/12]', 'serviceCIDRs: [10.128.0.0/12]');
    worker.holdNextJob = true;
    const first = analyses.run(state);
    await replace(doc, 'podCIDRs: [10.128.0.0/9]', 'podCIDRs: [10.128.0.0/10]');
    assert.ok(state.running, 'the second edit came while the first analysis ran (the premise of this test)');
    const second = analyses.run(state);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a, b, 'both callers get the one analysis of the final text');
    const after = analyses.counts.get(state.key)!;
    assert.equal(after.dropped, before.dropped + 1, 'the analysis of the first edit was dropped');
    assert.equal(after.published, before.published + 1, 'only the final text was published');
    // Stopped from inside at a checkpoint: the thread, its parse cache and compiled code go on to the final text.
    assert.equal(worker.stoppedInPlace, stoppedInPlace + 1, 'the stale analysis ended itself when told to');
    assert.equal(worker.started, threads, 'the worker thread was kept (not ended and started again)');
    // The published diagnostics are those of the final text: the Service range inside the (narrower) pod range.
    const codes = codesOf(doc);
    assert.ok(codes.includes('cidr.overlap'), `the final text's overlap is reported: ${codes.join(', ')}`);
    assert.ok(
      JSON.stringify(b.diagnostics.filter((d) => d.code === 'cidr.overlap')).includes('10.128.0.0/10'),
      'the diagnostics name the final pod range',
    );
    // The edits also scheduled analyses: the one above served them, nothing is analysed again.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(analyses.counts.get(state.key)!.published, before.published + 1, 'no second analysis of one change');
  });

  /** The mistakes example in an untitled document, once its overlap and its masquerade between pods are shown. */
  async function mistakesShown() {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(
      fs.readFileSync(fixtureUri('../../../examples/mistakes/cluster.netpath.yaml').fsPath, 'utf8'),
    );
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the example is analysed');
    await waitForCodes(
      doc,
      'the overlap and the masquerade between pods',
      (c) => c.includes('cidr.overlap') && c.includes('nat.pod-to-pod'),
    );
    return { analyses, doc, state };
  }

  test('the model stage is published first, and the data plane stage of the last analysis stays until replaced', async () => {
    const { analyses, doc, state } = await mistakesShown();
    const stages = analyses.modelStagesPublished;
    const published = analyses.counts.get(state.key)?.published ?? 0;
    // Every state of the diagnostics from the edit on, as the Problems panel sees them.
    const seen: string[][] = [];
    const listener = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === doc.uri.toString())) seen.push(codesOf(doc).map(String));
    });
    try {
      await replace(doc, 'serviceCIDRs: [10.244.0.0/16]', 'serviceCIDRs: [10.96.0.0/12]');
      await waitFor('the analysis of the edit', () =>
        (analyses.counts.get(state.key)?.published ?? 0) > published ? true : undefined,
      );
      await waitForCodes(doc, 'the overlap gone', (c) => !c.includes('cidr.overlap'));
    } finally {
      listener.dispose();
    }
    assert.equal(analyses.modelStagesPublished, stages + 1, 'one model stage published ahead of the analysis');
    assert.ok(seen.length > 0, 'the diagnostics changed');
    // The model stage replaced the overlap; the masquerade (a data plane rule's) never left the panel meanwhile.
    assert.deepEqual(
      seen.filter((codes) => !codes.includes('nat.pod-to-pod')),
      [],
      'nat.pod-to-pod stayed on screen while the data plane rules ran again',
    );
  });

  test("an edit's model stage is sent to the workbench once, and the analysis adds only the data plane stage", async () => {
    const { analyses, doc, state } = await mistakesShown();
    const published = analyses.counts.get(state.key)?.published ?? 0;
    // Each set of the document's diagnostics is a marker change the workbench processes: counted per collection.
    const sets = { model: 0, dataPlane: 0 };
    const spy = (collection: vscode.DiagnosticCollection, count: 'model' | 'dataPlane') => {
      const set = collection.set.bind(collection) as (uri: vscode.Uri, list: readonly vscode.Diagnostic[]) => void;
      collection.set = ((uri: vscode.Uri, list: readonly vscode.Diagnostic[]) => {
        if (uri.toString() === doc.uri.toString()) sets[count]++;
        set(uri, list);
      }) as vscode.DiagnosticCollection['set'];
      return () => (collection.set = set as vscode.DiagnosticCollection['set']);
    };
    const restore = [spy(analyses['diagnostics'], 'model'), spy(analyses['dataPlaneDiagnostics'], 'dataPlane')];
    try {
      await replace(doc, 'serviceCIDRs: [10.244.0.0/16]', 'serviceCIDRs: [10.96.0.0/12]');
      await waitFor('the analysis of the edit', () =>
        (analyses.counts.get(state.key)?.published ?? 0) > published ? true : undefined,
      );
    } finally {
      for (const r of restore) r();
    }
    assert.ok(!codesOf(doc).includes('cidr.overlap'), 'the edit removed the overlap');
    assert.equal(sets.model, 1, 'the model stage was set once: the analysis did not send it again');
    assert.equal(sets.dataPlane, 1, "the data plane stage's masquerade was set once, by the analysis");
    assert.ok(codesOf(doc).includes('nat.pod-to-pod'), 'the masquerade is still shown');
  });

  test('an edit of one pod re-parses only its lines in the worker, and finds what a whole parse finds', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(netpathCluster({ name: 'one-pod', nodes: 10, pods: 300, services: 50 }));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const worker = analyses.workerFor(state);
    // The second pod given the first one's IP: a duplicate the worker must find from the one item it re-read.
    const ips = [...doc.getText().matchAll(/^ {4}ip: (.+)$/gm)].map((m) => m[1]);
    await replace(doc, `ip: ${ips[1]}\n`, `ip: ${ips[0]}\n`);
    const analysis = await analyses.run(state);
    assert.deepEqual([worker.lastParsed, worker.lastPartly], [1, 1], 'one file parsed, only in the edited item');
    const spans = (ds: readonly Problem[]) => ds.map((d) => [d.code, d.span.start, d.span.end, d.message]);
    const whole = analyse([{ path: doc.uri.path, text: doc.getText() }]).diagnostics;
    assert.deepEqual(spans(analysis.diagnostics), spans(whole), 'the diagnostics of a whole parse, ranges included');
    assert.ok(
      analysis.diagnostics.some((d) => d.code === 'ip.duplicate'),
      'the duplicate is found',
    );
  });

  test('asked again while the documents are unchanged, the analysis under way goes on and serves every caller', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(netpathCluster({ name: 'unchanged', nodes: 100, pods: 3000, services: 100 }));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const before = { ...analyses.counts.get(state.key)! };
    const threads = analyses.workerFor(state).started;
    await replace(doc, 'serviceCIDRs: [10.96.0.0/12]', 'serviceCIDRs: [10.97.0.0/16]');
    // What the outline, the lenses, a view and a command do while it runs: ask for the analysis of the same text.
    const asked = [analyses.run(state), analyses.run(state), analyses.run(state)];
    const [a, b, c] = await Promise.all(asked);
    assert.ok(a === b && b === c, 'one analysis answers all three');
    const after = analyses.counts.get(state.key)!;
    assert.equal(after.dropped, before.dropped, 'nothing was stopped: the text did not change');
    assert.equal(after.published, before.published + 1, 'the change was analysed once');
    assert.equal(analyses.workerFor(state).started, threads, 'the worker thread was not restarted');
  });

  test('netpath.enable off clears the diagnostics and analyses nothing while typing; on again, they are back', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(LAB);
    await waitForCodes(doc, 'cidr.overlap', (c) => c.includes('cidr.overlap'));
    const published = () => [...analyses.counts.values()].reduce((n, c) => n + c.published, 0);
    const config = vscode.workspace.getConfiguration('netpath');
    await config.update('enable', false, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the diagnostics to clear', () => (codesOf(doc).length === 0 ? true : undefined), {
        events: [vscode.languages.onDidChangeDiagnostics],
      });
      const before = published();
      await replace(doc, 'editor-lab', 'editor-lab-typed');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(published(), before, 'no analysis while NetPath is off');
      assert.deepEqual(codesOf(doc), [], 'and no diagnostics');
    } finally {
      await config.update('enable', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitForCodes(doc, 'cidr.overlap', (c) => c.includes('cidr.overlap'));
  });

  test('the outline and the CodeLens of an edited file come from the worker: no model is built on the host', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const text = netpathCluster({ name: 'features', nodes: 20, pods: 600, services: 20 });
    const doc = await untitled(text);
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const built = analyses.modelsBuilt;
    await replace(doc, 'serviceCIDRs: [10.96.0.0/12]', 'serviceCIDRs: [10.97.0.0/16]');
    const analysis = await analyses.run(state);
    const outline = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
      'vscode.executeDocumentSymbolProvider',
      doc.uri,
    );
    const pods = (outline ?? []).flatMap((s) => s.children).find((s) => s.name === 'pods');
    assert.equal(pods?.children.length, 600, 'the outline lists every pod');
    // Lenses come without their commands, resolved only for those on screen: ask for every one resolved.
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      10_000,
    );
    const traces = lenses.filter((l) => l.command?.command === 'netpath.tracePacket');
    // From and to each pod and the external client, to each Service's one port.
    assert.equal(traces.length, 2 * 600 + 2 + 20, 'every pod, external and Service has its trace lenses');
    assert.equal(analyses.modelsBuilt, built, 'neither the outline nor the lenses built the model on the host');
    assert.equal(state.analysis, analysis, 'they are those of the analysis of the edited text');
  });

  test('the outline asked for right after an edit is that of the edited text, not of the analysis before it', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(netpathCluster({ name: 'outline-now', nodes: 20, pods: 600, services: 20 }));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const waited = analyses.featuresWaited;
    const published = analyses.counts.get(state.key)?.published;
    await replace(doc, '- name: pod1\n', '- name: renamed1\n');
    // Asked at once, as the workbench asks after every change (here straight from the provider's source: through
    // the workbench, the round trip may outlast the analysis on a loaded machine).
    const found = await analyses.featuresFor(doc);
    assert.ok(found, 'the document has an outline');
    const pods = found.features.symbols.flatMap((s) => s.children).find((s) => s.name === 'pods');
    const names = (pods?.children ?? []).map((s) => s.name.split('/').pop());
    assert.ok(names.includes('renamed1'), `the outline shows the pod's new name: ${names.slice(0, 3).join(', ')}, …`);
    assert.ok(!names.includes('pod1'), 'the outline no longer shows its old name');
    assert.equal(analyses.counts.get(state.key)?.published, (published ?? 0) + 1, 'the edit was analysed once');
    // (The workbench asks for the outline and lenses of the edited text too: theirs waited as well.)
    assert.ok(analyses.featuresWaited > waited, 'the answer waited for the analysis of the edited text');
  });

  test('an outline waiting for a scheduled analysis is answered when a caller runs that analysis first', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(netpathCluster({ name: 'outline-run', nodes: 10, pods: 300, services: 20 }));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    // The edit's analysis scheduled a minute away; the outline asked for meanwhile waits for it.
    analyses.schedule(state, 60_000);
    await replace(doc, '- name: pod1\n', '- name: renamed1\n');
    analyses.schedule(state, 60_000);
    const asked = analyses.featuresFor(doc);
    // Once the request is waiting, a command runs the analysis now (it clears the timer, which will not fire).
    await new Promise((r) => setTimeout(r, 200));
    await analyses.run(state);
    const answered = await Promise.race([asked, new Promise<'none'>((r) => setTimeout(() => r('none'), 20_000))]);
    assert.ok(answered !== 'none', 'the outline was answered once the analysis it waited for was published');
    const pods = answered?.features.symbols.flatMap((s) => s.children).find((s) => s.name === 'pods');
    assert.ok(
      pods?.children.some((s) => s.name.endsWith('/renamed1')),
      "it is the edited text's outline",
    );
  });

  test("an edit's diagnostics and outline are placed with the document's own lines: no line index of it is made", async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const text = netpathCluster({ name: 'positions', nodes: 10, pods: 300, services: 20 });
    const doc = await untitled(text);
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    const made = analyses.lineIndexesMadeOf(doc.uri.path);
    // The second pod given the first one's IP: an ip.duplicate, with the other pod as its related place.
    const [first, second] = text.split('\n').filter((l) => /^ {4}ip: /.test(l));
    await replace(doc, `${second}\n`, `${first}\n`);
    await analyses.run(state);
    const duplicate = vscode.languages.getDiagnostics(doc.uri).find((d) => codeOf(d) === 'ip.duplicate');
    assert.ok(duplicate, `the duplicate is reported: ${codesOf(doc).join(', ')}`);
    assert.equal(doc.getText(duplicate.range), first.slice('    ip: '.length), 'it is placed on the IP');
    const related = duplicate.relatedInformation?.[0]?.location.range;
    assert.ok(related && doc.getText(related).includes(first.slice('    ip: '.length)), 'so is its related place');
    await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', doc.uri);
    await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri);
    assert.equal(
      analyses.lineIndexesMadeOf(doc.uri.path),
      made,
      "no line index of the 300-pod text was made: the document's were used",
    );
    // The count is this document's: a go-to-definition turns the position into an offset with an index of it.
    await vscode.commands.executeCommand('vscode.executeDefinitionProvider', doc.uri, duplicate.range.start);
    assert.ok(analyses.lineIndexesMadeOf(doc.uri.path) > made, "an index this document's features make is counted");
  });

  test('a save or a NetPath document changed on disk that changes no topology neither stops nor repeats an analysis', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(LAB.replace('editor-lab', 'regroup-lab'));
    await waitForCodes(doc, 'cidr.overlap', (c) => c.includes('cidr.overlap'));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the document is a topology');
    // The model stage's diagnostics are on screen before the analysis ends: wait for it (no new analysis).
    await analyses.run(state);
    assert.ok(state.analysis, 'the topology was analysed');
    const analysis = state.analysis;
    const published = analyses.counts.get(state.key)?.published;
    const again = await analyses.regroup([{ what: 'saved', path: doc.uri.path }]);
    assert.ok(!again.includes(state), 'not analysed again after a save that changed nothing it reads');
    assert.equal(await analyses.topologyFor(doc), state, 'the same topology');
    assert.equal(await analyses.run(state), analysis, 'asked again, its published analysis is the answer');
    assert.equal(analyses.counts.get(state.key)?.published, published, 'nothing analysed or published again');
    // A file created on disk may be one an include was missing: every open topology is analysed again.
    const created = await analyses.regroup([{ what: 'created', path: '/elsewhere/new.yaml' }]);
    assert.ok(created.includes(state), 'analysed again after a file was created');
    assert.notEqual(await analyses.run(state), analysis, 'a new analysis');
  });

  /**
   * A 20-node, 600-pod cluster (30 pods per Service) in an untitled document, once its first analysis is published:
   * with the worker that analysed it and how many models the extension host had built by then.
   */
  async function analysedCluster(name: string) {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const doc = await untitled(netpathCluster({ name, nodes: 20, pods: 600, services: 20 }));
    const state = await analyses.topologyFor(doc);
    assert.ok(state, 'the cluster is analysed');
    await waitFor('the first analysis', () => analyses.counts.get(state.key)?.published || undefined, {
      timeoutMs: 60_000,
    });
    return { analyses, state, doc, worker: analyses.workerFor(state), built: analyses.modelsBuilt };
  }

  test('Show Topology draws the summary the worker computed from its model: none is built on the host', async () => {
    const { analyses, state, worker, built } = await analysedCluster('summary');
    const answered = worker.summaries;
    await vscode.commands.executeCommand('netpath.showTopology');
    // The view asks for its data once its page has loaded: the worker answers it.
    await waitFor('the worker to send the view its summary', () => worker.summaries > answered || undefined, {
      timeoutMs: 60_000,
    });
    assert.equal(analyses.modelsBuilt, built, 'the extension host built no model for the view');
    const analysis = state.analysis;
    assert.ok(analysis, 'the topology has its analysis');
    const fromWorker = await analyses.summaryFor(analysis);
    assert.equal(fromWorker.pods.names.length, 600, 'the summary lists every pod');
    assert.equal(analyses.modelsBuilt, built, 'asked again, still no model on the host');
    // The same summary as the one built from the model here (which this comparison builds, once).
    assert.deepEqual(fromWorker, compactSummary(analysis), 'the worker summarises exactly as the extension host would');
    assert.equal(analyses.modelsBuilt, built + 1);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a trace is traced by the worker on the model it analysed: none is built on the host', async () => {
    const { analyses, state, worker, built, doc } = await analysedCluster('traced');
    const answered = worker.traces;
    const request = { from: 'pod/default/pod1', to: 'svc/svc2:http', proto: 'tcp' } as const;
    await vscode.commands.executeCommand('netpath.tracePacket', { file: doc.uri.toString(), ...request });
    await waitFor('the worker to trace for the view', () => worker.traces > answered || undefined, {
      timeoutMs: 60_000,
    });
    assert.equal(analyses.modelsBuilt, built, 'the extension host built no model for the trace');
    const analysis = state.analysis;
    assert.ok(analysis, 'the topology has its analysis');
    const fromWorker = await analyses.traceFor(analysis, request);
    assert.ok(fromWorker.result, `the worker traced the flow: ${fromWorker.problems.join('; ')}`);
    assert.equal(fromWorker.result.paths.length, 30, 'one path per endpoint of svc2');
    assert.equal(analyses.modelsBuilt, built, 'asked again, still no model on the host');
    // The same data as a trace on the model built here (which this comparison builds, once).
    assert.deepEqual(fromWorker, traceViewData(analysis, request), 'the worker traces exactly as the extension host');
    assert.equal(analyses.modelsBuilt, built + 1);
    const tab = allTabs().find(
      (t) => t.input instanceof vscode.TabInputWebview && t.label.includes('pod/default/pod1'),
    );
    if (tab) await vscode.window.tabGroups.close(tab);
  });
});

suite('Large files', () => {
  suiteSetup(activateNetPath);

  test('the default size limit fits a 15,000-pod topology (8 MB)', () => {
    assert.equal(vscode.workspace.getConfiguration('netpath').inspect('maxFileSizeKB')?.defaultValue, 8192);
  });

  test('a file over netpath.maxFileSizeKB gets one file.too-large warning and a notification, not an analysis', async () => {
    const ext = await activateNetPath();
    const notices = (ext.exports as Services).analyses.notices;
    const before = notices.length;
    const config = vscode.workspace.getConfiguration('netpath');
    await config.update('maxFileSizeKB', 1, vscode.ConfigurationTarget.Global);
    try {
      const doc = await untitled(LAB + '#' + 'x'.repeat(2000) + '\n');
      const codes = await waitForCodes(doc, 'file.too-large', (c) => c.includes('file.too-large'));
      assert.deepEqual(codes, ['file.too-large']);
      const name = doc.uri.path.split('/').pop() ?? '';
      const shown = notices.slice(before).filter((n) => n.startsWith(`${name}:`));
      assert.equal(shown.length, 1, `one notice for the file, not one per analysis: ${JSON.stringify(shown)}`);
      assert.match(shown[0], /did not read this file: it is \d+ KB, over the limit of 1 KB/);
    } finally {
      await config.update('maxFileSizeKB', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

suite('Tracing and learning', () => {
  suiteSetup(activateNetPath);

  test('Trace Packet with preselected arguments opens the trace view without asking', async () => {
    const before = allTabs().filter((t) => t.input instanceof vscode.TabInputWebview).length;
    await vscode.commands.executeCommand('netpath.tracePacket', {
      file: fixtureUri(FIXTURE).toString(),
      from: 'pod/default/client',
      to: 'pod/default/web-2:8080',
      proto: 'tcp',
    });
    const tab = await waitFor(
      'a trace webview tab',
      () => allTabs().find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Trace')),
      { events: [vscode.window.tabGroups.onDidChangeTabs] },
    );
    assert.match(tab.label, /pod\/default\/client → pod\/default\/web-2:8080/);
    assert.ok(allTabs().filter((t) => t.input instanceof vscode.TabInputWebview).length > before);
  });

  test('the walkthrough teaches the four kinds of communication, each step running a trace, then fixes mistakes', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    const steps = pkg.contributes.walkthroughs[0].steps as { id: string; description: string }[];
    assert.deepEqual(
      steps.map((s) => s.id),
      ['container', 'pod', 'service', 'external', 'cni', 'mistakes'],
    );
    for (const s of steps.slice(0, 4)) assert.match(s.description, /command:netpath\.walkthroughTrace\?/);
    // The plug-in comparison: one trace button per modelled plug-in's example.
    assert.equal(steps[4].description.match(/command:netpath\.walkthroughTrace\?/g)?.length, 4);
    const mistakes = steps[5];
    assert.match(mistakes.description, /command:netpath\.walkthroughMistakes\)/);
    assert.match(mistakes.description, /command:netpath\.walkthroughFix\)/);
  });

  test('the example with mistakes opens editable with its diagnostics; its quick fixes leave the three to fix by hand', async () => {
    const doc = (await vscode.commands.executeCommand('netpath.walkthroughMistakes')) as vscode.TextDocument;
    assert.equal(doc.uri.scheme, 'untitled');
    const codes = () => [...new Set(vscode.languages.getDiagnostics(doc.uri).map((d) => codeOf(d) ?? ''))].sort();
    // The model's diagnostics come first, the data plane's (nat.pod-to-pod) with the whole analysis.
    await waitFor(
      'the diagnostics of the example',
      () => (codes().includes('cidr.overlap') && codes().includes('nat.pod-to-pod') ? true : undefined),
      { events: [vscode.languages.onDidChangeDiagnostics] },
    );
    assert.deepEqual(codes(), [
      'bridge.hairpin-off',
      'cidr.overlap',
      'ip.outside-range',
      'nat.pod-to-pod',
      'route.missing',
      'service.no-endpoints',
    ]);
    const applied = (await vscode.commands.executeCommand('netpath.walkthroughFix')) as string[];
    assert.ok(applied.length >= 2, applied.join('\n'));
    assert.deepEqual(codes(), ['nat.pod-to-pod', 'route.missing', 'service.no-endpoints']);
    assert.match(doc.getText(), /hairpinMode: true/);
    assert.doesNotMatch(doc.getText(), /serviceCIDRs: \[10\.244\.0\.0\/16\]/);
  });

  test('a walkthrough step opens the bundled lab and traces on it', async () => {
    await vscode.commands.executeCommand('netpath.walkthroughTrace', { kind: 'service' });
    await waitFor(
      'the service trace view',
      () =>
        allTabs().find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes('svc/default/web:http')),
      { events: [vscode.window.tabGroups.onDidChangeTabs] },
    );
    assert.ok(
      vscode.workspace.textDocuments.some((d) => d.uri.path.endsWith('media/walkthrough/two-node-lab.netpath.yaml')),
    );
  });
});

suite('Workspace confinement', () => {
  suiteSetup(activateNetPath);
  const outside = '/tmp/netpath-allowed-folder';

  test('an include outside the workspace is refused until netpath.allowedFolders allows its folder', async () => {
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(`${outside}/node.yaml`, 'apiVersion: v1\nkind: Node\nmetadata:\n  name: outside-node\n');
    const config = vscode.workspace.getConfiguration('netpath');
    try {
      const doc = await vscode.workspace.openTextDocument(fixtureUri('confined/lab.netpath.yaml'));
      await vscode.window.showTextDocument(doc);
      const codes = await waitForCodes(doc, 'include.outside-workspace', (c) =>
        c.includes('include.outside-workspace'),
      );
      assert.deepEqual(codes, ['include.outside-workspace']);
      await config.update('allowedFolders', [outside], vscode.ConfigurationTarget.Global);
      await waitForCodes(doc, 'no refusal once the folder is allowed', (c) => !c.includes('include.outside-workspace'));
    } finally {
      await config.update('allowedFolders', undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

suite('A document opened while the workspace is grouped again', () => {
  suiteSetup(activateNetPath);

  test('gets its diagnostics: the grouping under way keeps its topology', async () => {
    // A settings change groups every folder again (a workspace search, about a second); a document opened meanwhile
    // was missing from the list of documents the grouping started with, so its new topology was forgotten at the
    // end and its analysis never published (CI saw a kubectl dump stay without diagnostics after such a change).
    // A workspace document already open: the grouping waits for the workspace search on its behalf.
    await vscode.workspace.openTextDocument(fixtureUri('overlap.netpath.yaml'));
    const config = vscode.workspace.getConfiguration('netpath');
    await config.update('manifestGlobs', ['**/no-such-manifest.yaml'], vscode.ConfigurationTarget.Global);
    try {
      const doc = await vscode.workspace.openTextDocument(fixtureUri('opened-while-grouping/lab.netpath.yaml'));
      await vscode.window.showTextDocument(doc);
      await waitForCodes(doc, 'cidr.overlap in the document opened while grouping', (c) => c.includes('cidr.overlap'));
    } finally {
      await config.update('manifestGlobs', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

suite('A kubectl -o json dump', () => {
  suiteSetup(activateNetPath);

  test('is analysed with the NetPath document of its folder: diagnostics at the JSON span, hover, trace CodeLens', async () => {
    const doc = await vscode.workspace.openTextDocument(fixtureUri('json-dump/cluster-dump.json'));
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'json');
    const d = await waitFor(
      'service.no-endpoints in the dump',
      () => vscode.languages.getDiagnostics(doc.uri).find((x) => codeOf(x) === 'service.no-endpoints'),
      { events: [vscode.languages.onDidChangeDiagnostics] },
    );
    assert.match(d.message, /Service default\/api has no endpoints/);
    // At Service api's selector as kubectl wrote it, not at the top of the file.
    assert.equal(doc.getText(d.range).replace(/\s+/g, ' '), '{ "app": "api" }');
    assert.deepEqual(vscode.languages.getDiagnostics(doc.uri).map(codeOf), ['service.no-endpoints']);

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      positionOf(doc, '"podCIDRs"', { offset: 3 }),
    );
    assert.match(hoverText(hovers), /Pod CIDR/);

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      10_000,
    );
    const traces = lenses
      .filter((l) => l.command?.command === 'netpath.tracePacket')
      .map((l) => `${l.command!.title} ${JSON.stringify(l.command!.arguments?.[0])}`);
    const file = doc.uri.toString();
    assert.ok(
      traces.includes(`Trace from here ${JSON.stringify({ file, from: 'pod/default/client' })}`),
      traces.join('\n'),
    );
    assert.ok(
      traces.includes(`Trace to here ${JSON.stringify({ file, to: 'svc/default/web:http' })}`),
      traces.join('\n'),
    );
  });

  test('edits to the dump are analysed again', async () => {
    const doc = await vscode.workspace.openTextDocument(fixtureUri('json-dump/cluster-dump.json'));
    await vscode.window.showTextDocument(doc);
    await waitForCodes(doc, 'service.no-endpoints', (c) => c.includes('service.no-endpoints'));
    await replace(doc, '"app": "api"', '"app": "web"');
    try {
      await waitForCodes(
        doc,
        'no service.no-endpoints once api selects web',
        (c) => !c.includes('service.no-endpoints'),
      );
    } finally {
      // Back to the file on disk (the fixture is never saved).
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    assert.equal(doc.isDirty, false);
    await waitForCodes(doc, 'service.no-endpoints back after the revert', (c) => c.includes('service.no-endpoints'));
  });

  test('other JSON next to it (package.json) is left alone: no analysis, no hover, no CodeLens', async () => {
    const ext = await activateNetPath();
    const doc = await vscode.workspace.openTextDocument(fixtureUri('json-dump/package.json'));
    await vscode.window.showTextDocument(doc);
    assert.equal(await (ext.exports as Services).analyses.topologyFor(doc), undefined);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      positionOf(doc, '"name"', { offset: 2 }),
    );
    assert.doesNotMatch(hoverText(hovers), /NetPath|Kubernetes/);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      10_000,
    );
    assert.deepEqual(
      lenses.filter((l) => l.command?.command.startsWith('netpath.')),
      [],
    );
    await new Promise((r) => setTimeout(r, 600));
    // VS Code's own JSON support may report on package.json (its schema cannot be fetched offline); NetPath does not.
    assert.deepEqual(
      vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'netpath'),
      [],
    );
  });
});

suite('Topologies: the editor groups files as netpath lint does', () => {
  suiteSetup(activateNetPath);

  test('every file netpath lint reads in the workspace is in the topology the command line gives it', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const folder = fixtureUri('.').path.replace(/\/$/, '');
    // The command line's own grouping, through its folder walk on node:fs.
    const groups = await topologiesOf([folder], folder);
    const files = [...new Set(groups.flatMap((g) => g.files))];
    assert.ok(files.length >= 10, files.join('\n'));
    const rel = (e: readonly string[]) => e.map((f) => f.slice(folder.length + 1));
    for (const file of files) {
      const expected = groupOf(groups, file);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      const state = await analyses.topologyFor(doc);
      assert.deepEqual(rel(state?.entries ?? []), rel(expected?.entries ?? []), file);
    }
    // What that means in the folder of several documents: each is its own topology, the manifest goes with both.
    const entriesOf = async (name: string) =>
      rel((await analyses.topologyFor(await vscode.workspace.openTextDocument(fixtureUri(name))))?.entries ?? []);
    assert.deepEqual(await entriesOf('several/b/one.netpath.yaml'), ['several/b/one.netpath.yaml']);
    assert.deepEqual(await entriesOf('several/b/pods.yaml'), [
      'several/b/one.netpath.yaml',
      'several/b/two.netpath.yaml',
      'several/b/pods.yaml',
    ]);
    assert.deepEqual(await entriesOf('several/a/k8s/web.yaml'), [
      'several/a/lab.netpath.yaml',
      'several/a/k8s/web.yaml',
    ]);
  });

  test('a manifest added to a folder joins its topology, and leaves it when deleted', async () => {
    const ext = await activateNetPath();
    const analyses = (ext.exports as Services).analyses;
    const lab = await vscode.workspace.openTextDocument(fixtureUri('several/a/lab.netpath.yaml'));
    const added = fixtureUri('several/a/k8s/added.yaml');
    const entries = async () => (await analyses.topologyFor(lab))?.entries ?? [];
    const poll = (what: string, test: (e: readonly string[]) => boolean) =>
      new Promise<readonly string[]>((resolve, reject) => {
        const started = Date.now();
        const tick = async () => {
          const e = await entries();
          if (test(e)) resolve(e);
          else if (Date.now() - started > 15_000) reject(new Error(`timed out waiting for ${what}: ${e.join(', ')}`));
          else setTimeout(() => void tick(), 100);
        };
        void tick();
      });
    assert.ok(!(await entries()).includes(added.path));
    fs.writeFileSync(
      added.fsPath,
      'apiVersion: v1\nkind: Service\nmetadata: {name: added}\nspec:\n  ports: [{port: 80}]\n',
    );
    try {
      await poll('the added manifest in the topology', (e) => e.includes(added.path));
    } finally {
      fs.rmSync(added.fsPath, { force: true });
    }
    await poll('the deleted manifest out of the topology', (e) => !e.includes(added.path));
  });

  test('a manifest the topology reads from disk, changed there, is analysed again', async () => {
    const lab = await vscode.workspace.openTextDocument(fixtureUri('several/a/lab.netpath.yaml'));
    const added = fixtureUri('several/a/k8s/changed.yaml');
    const service = (app: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: changed}\nspec:\n  selector: {app.kubernetes.io/name: ${app}}\n  ports: [{port: 80}]\n`;
    const noEndpoints = () =>
      vscode.languages.getDiagnostics(added).some((d) => codeOf(d) === 'service.no-endpoints') || undefined;
    fs.writeFileSync(added.fsPath, service('web'));
    try {
      await waitFor('the added Service analysed, with endpoints', async () => {
        const analysis = await ((await activateNetPath()).exports as Services).analyses.analysisFor(lab);
        return analysis?.sources.some((f) => f.path === added.path) && !noEndpoints() ? true : undefined;
      });
      // Not open in the editor: only the file on disk says its selector changed.
      fs.writeFileSync(added.fsPath, service('nothing'));
      await waitFor('service.no-endpoints once it selects no pod', noEndpoints, {
        events: [vscode.languages.onDidChangeDiagnostics],
      });
    } finally {
      fs.rmSync(added.fsPath, { force: true });
    }
  });
});
