// The editor's floor (bench/editor.ts): the least an extension can do between a key and a squiggle. On every change
// to a `*.floor.txt` document it marks, synchronously and in one pass over the lines, each pod IP (`    ip: …`) that
// occurs more than once: the same problem NetPath's ip.duplicate reports, found with no parse, model or worker.
// The time from a key to this extension's squiggle is what code-server and the workbench cost on their own.
'use strict';
const vscode = require('vscode');

const POD_IP = /^ {4}ip: (\S+)/;

function duplicatedIps(doc) {
  const lines = new Map();
  for (let i = 0; i < doc.lineCount; i++) {
    const m = POD_IP.exec(doc.lineAt(i).text);
    if (!m) continue;
    const at = lines.get(m[1]);
    if (at) at.push(i);
    else lines.set(m[1], [i]);
  }
  const found = [];
  for (const [ip, at] of lines)
    if (at.length > 1)
      for (const line of at) {
        const start = new vscode.Position(line, '    ip: '.length);
        const range = new vscode.Range(start, start.translate(0, ip.length));
        found.push(
          new vscode.Diagnostic(
            range,
            `floor probe: pod IP ${ip} appears ${at.length} times`,
            vscode.DiagnosticSeverity.Error,
          ),
        );
      }
  return found;
}

function activate(context) {
  const collection = vscode.languages.createDiagnosticCollection('floor');
  // When each change arrived and its squiggles were set, on the machine's clock (Date.now, as the bench reads the
  // page's key presses): bench/editor.ts splits the floor into the trip to the extension host and the way back.
  const log = vscode.window.createOutputChannel('NetPath floor probe', { log: true });
  const check = (doc) => {
    if (doc.uri.path.endsWith('.floor.txt')) collection.set(doc.uri, duplicatedIps(doc));
  };
  const changed = (e) => {
    if (!e.document.uri.path.endsWith('.floor.txt') || !e.contentChanges.length) return;
    const arrived = Date.now();
    check(e.document);
    log.info(`change arrived ${arrived} set ${Date.now()}`);
  };
  context.subscriptions.push(
    collection,
    log,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument(changed),
  );
  for (const doc of vscode.workspace.textDocuments) check(doc);
}

module.exports = { activate };
