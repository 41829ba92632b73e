/**
 * "NetPath: Verify on Linux Kernel" for real: the vscode tier runs as root on CI, so the command builds
 * the lab in network namespaces, sends the flows and shows the report. Without root it is skipped by name.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateNetPath, allTabs, fixtureUri, waitFor } from './helpers';

interface Report {
  readonly agree: boolean;
  readonly flows: readonly { readonly from: string; readonly to: string; readonly agree: boolean }[];
}

suite('Verify on Linux Kernel', () => {
  suiteSetup(activateNetPath);

  test('builds the lab, agrees with the tracer on every flow, and shows the report', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip(); // Namespaces need root on Linux; CI is both.
    this.timeout(120_000);
    const report = await vscode.commands.executeCommand<Report | undefined>('netpath.verifyKernel', {
      file: fixtureUri('verify/lab.netpath.yaml').toString(),
      confirmed: true,
    });
    assert.ok(report, 'the command returned no report');
    assert.ok(report.flows.length >= 3, `only ${report.flows.length} flows`);
    assert.deepEqual(
      report.flows.filter((f) => !f.agree).map((f) => `${f.from} -> ${f.to}`),
      [],
    );
    assert.equal(report.agree, true);
    const tab = await waitFor(
      'the verify report tab',
      () => allTabs().find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Verify')),
      { events: [vscode.window.tabGroups.onDidChangeTabs] },
    );
    assert.match(tab.label, new RegExp(`verify-lab \\(${report.flows.length}/${report.flows.length} agree\\)`));
  });
});
