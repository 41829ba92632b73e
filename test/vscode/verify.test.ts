/**
 * "NetPath: Verify on Linux Kernel" for real: the vscode tier runs as root on CI, so the command builds
 * the lab in network namespaces, sends the flows and shows the report. Without root it is skipped by name.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { Services } from '../../src/vscode/commands';
import { activateNetPath, allTabs, fixtureUri, waitFor } from './helpers';

/** The network namespaces whose name starts with `prefix` (`ip netns list` prints one per line, name first). */
const namespacesOf = (prefix: string): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(prefix));

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

  test('Cancel in the progress notification stops the run, says so, and leaves no namespace behind', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip(); // Namespaces need root on Linux; CI is both.
    this.timeout(120_000);
    const ext = await activateNetPath();
    const notices = (ext.exports as Services).analyses.notices;
    const before = notices.length;
    const reportTabs = () =>
      allTabs().filter((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Verify')).length;
    const tabsBefore = reportTabs();
    // The lab's namespaces are named after the extension host's pid, which is this process (lab/verify.ts).
    const prefix = `npv-${process.pid}-`;
    assert.deepEqual(namespacesOf(prefix), [], 'no lab of this host before the run');
    // The progress notification must be the first one, where the workbench's command looks for it.
    await vscode.commands.executeCommand('notifications.clearAll');
    const run = Promise.resolve(
      vscode.commands.executeCommand<unknown>('netpath.verifyKernel', {
        file: fixtureUri('verify/lab.netpath.yaml').toString(),
        confirmed: true,
      }),
    );
    // Cancelled while the lab is being built: its first namespaces exist.
    await waitFor('the lab to create its first namespace', () => (namespacesOf(prefix).length ? true : undefined), {
      timeoutMs: 60_000,
    });
    // The Cancel button of the notification is its primary action: what a click on it runs.
    await vscode.commands.executeCommand('notification.acceptPrimaryAction');
    assert.equal(await run, undefined, 'a cancelled run gives no report');
    const shown = notices.slice(before);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.match(shown[0], /^NetPath: verify interrupted by Cancel; lab 'npv-\d+' removed\.$/);
    assert.deepEqual(namespacesOf(prefix), [], 'every namespace of the lab is removed');
    assert.equal(reportTabs(), tabsBefore, 'no report opens');
  });
});
