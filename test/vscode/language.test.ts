/**
 * Language features through VS Code's own commands (the way the editor asks for them): outline, Go to
 * Definition, Find References, completion and the trace CodeLens, on the fixture topology. The answers
 * themselves are tested in test/unit/language/; these prove the wiring and the position conversion.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { FIXTURE, activateNetPath, fixtureUri, positionOf } from './helpers';

type Target = vscode.Location | vscode.LocationLink;

/** `line:text` of each target, sorted, so assertions read like the fixture. */
function targets(doc: vscode.TextDocument, found: readonly Target[] | undefined): string[] {
  return (found ?? [])
    .map((t) => ('targetUri' in t ? { uri: t.targetUri, range: t.targetSelectionRange ?? t.targetRange } : t))
    .map((l) => {
      assert.equal(l.uri.toString(), doc.uri.toString(), 'a target in another file');
      return `${l.range.start.line + 1}:${doc.getText(l.range)}`;
    })
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

const lineOf = (doc: vscode.TextDocument, needle: string, nth = 0) => positionOf(doc, needle, { nth }).line + 1;

suite('Language features', () => {
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    await activateNetPath();
    doc = await vscode.workspace.openTextDocument(fixtureUri(FIXTURE));
    await vscode.window.showTextDocument(doc);
  });

  test('the outline lists nodes with their interfaces, pods with containers and Services with ports', async () => {
    // The first request may come before the extension has read the file: wait for a non-empty outline.
    const outline = await waitForAsync('the NetPath outline', async () => {
      const found = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
        'vscode.executeDocumentSymbolProvider',
        doc.uri,
      );
      return found?.find((s) => s.name === 'overlap-lab');
    });
    const child = (s: vscode.DocumentSymbol, name: string) => {
      const c = s.children.find((x) => x.name === name);
      assert.ok(c, `no "${name}" under "${s.name}" (children: ${s.children.map((x) => x.name).join(', ')})`);
      return c;
    };
    const node1 = child(child(outline, 'nodes'), 'node1');
    assert.equal(node1.kind, vscode.SymbolKind.Class);
    assert.equal(doc.getText(node1.selectionRange), 'node1');
    assert.equal(node1.selectionRange.start.line + 1, lineOf(doc, '- name: node1'));
    assert.deepEqual(
      node1.children.map((c) => c.name),
      ['eth0'],
    );
    assert.deepEqual(
      child(child(child(outline, 'pods'), 'default/web-1'), 'app').children.map((c) => c.name),
      ['http'],
    );
    assert.equal(child(child(outline, 'services'), 'default/web').children[0].detail, '80/TCP → http');
  });

  test("Go to Definition goes from a pod's node to the node", async () => {
    const at = positionOf(doc, 'node: node2', { offset: 8 });
    const found = await vscode.commands.executeCommand<Target[]>('vscode.executeDefinitionProvider', doc.uri, at);
    assert.deepEqual(targets(doc, found), [`${lineOf(doc, '- name: node2')}:node2`]);
  });

  test("Go to Definition goes from a Service's selector to the pods it selects", async () => {
    const at = positionOf(doc, 'selector: {app: web}', { offset: 12 });
    const found = await vscode.commands.executeCommand<Target[]>('vscode.executeDefinitionProvider', doc.uri, at);
    assert.deepEqual(targets(doc, found), [
      `${lineOf(doc, '- name: web-1')}:web-1`,
      `${lineOf(doc, '- name: web-2')}:web-2`,
    ]);
  });

  test('Find References lists the pods on a node and the interfaces on a network', async () => {
    const onNode = await vscode.commands.executeCommand<vscode.Location[]>(
      'vscode.executeReferenceProvider',
      doc.uri,
      positionOf(doc, '- name: node1', { offset: 9 }),
    );
    assert.deepEqual(targets(doc, onNode), [
      `${lineOf(doc, '- name: node1')}:node1`,
      `${lineOf(doc, 'node: node1', 0)}:node1`,
      `${lineOf(doc, 'node: node1', 1)}:node1`,
    ]);
    const onNetwork = await vscode.commands.executeCommand<vscode.Location[]>(
      'vscode.executeReferenceProvider',
      doc.uri,
      positionOf(doc, '- name: lan', { offset: 9 }),
    );
    assert.deepEqual(targets(doc, onNetwork), [
      `${lineOf(doc, '- name: lan')}:lan`,
      `${lineOf(doc, 'network: lan', 0)}:lan`,
      `${lineOf(doc, 'network: lan', 1)}:lan`,
    ]);
  });

  test("completion offers node names for a pod's node and port names for a targetPort", async () => {
    const labels = async (position: vscode.Position) => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>(
        'vscode.executeCompletionItemProvider',
        doc.uri,
        position,
      );
      return list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    };
    const nodes = await labels(positionOf(doc, 'node: node1', { offset: 6 }));
    assert.ok(nodes.includes('node1') && nodes.includes('node2'), `no node names in: ${nodes.join(', ')}`);
    const ports = await labels(positionOf(doc, 'targetPort: http', { offset: 12 }));
    assert.ok(ports.includes('http'), `no container port name in: ${ports.join(', ')}`);
  });

  test('CodeLens over pods and Services runs netpath.tracePacket with the endpoint', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      10_000,
    );
    const ours = lenses.filter((l) => l.command?.command === 'netpath.tracePacket');
    const seen = ours.map(
      (l) => `${l.range.start.line + 1} ${l.command!.title} ${JSON.stringify(l.command!.arguments?.[0])}`,
    );
    const file = doc.uri.toString();
    const expect = (line: number, title: string, arg: Record<string, string>) =>
      assert.ok(
        seen.includes(`${line} ${title} ${JSON.stringify({ file, ...arg })}`),
        `missing "${title}" ${JSON.stringify(arg)} on line ${line}; got:\n${seen.join('\n')}`,
      );
    expect(lineOf(doc, '- name: client'), 'Trace from here', { from: 'pod/default/client' });
    expect(lineOf(doc, '- name: web-1'), 'Trace to here', { to: 'pod/default/web-1:http' });
    expect(lineOf(doc, '- name: web\n'), 'Trace to here', { to: 'svc/default/web:http' });
    assert.equal(ours.length, 7, `3 pods x 2 lenses + 1 Service port; got:\n${seen.join('\n')}`);
  });
});

/** Like `waitFor`, for a probe that has to ask VS Code (asynchronously). */
async function waitForAsync<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
