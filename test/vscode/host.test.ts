/**
 * The harness itself: these tests prove the suites run in a real VS Code of the version the extension
 * targets, on the fixture workspace, so a green run of the other suites means something.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { FIXTURE, fixtureUri } from './helpers';

suite('Test host', () => {
  test('is a real VS Code 1.96 (the oldest version package.json allows)', () => {
    assert.match(vscode.version, /^1\.96\./);
    assert.equal(typeof vscode.languages.registerHoverProvider, 'function');
  });

  test('has the fixture workspace open', async () => {
    const stat = await vscode.workspace.fs.stat(fixtureUri(FIXTURE));
    assert.equal(stat.type, vscode.FileType.File);
  });
});
