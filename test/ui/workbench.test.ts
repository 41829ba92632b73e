/**
 * The ui tier: what a person sees with the packaged NetPath .vsix installed in a real VS Code. Each step
 * leaves a screenshot in test-output/ui/ (and a failed step a `failed-*.png`). The steps build on each
 * other, so mocha stops at the first failure (`bail` in .mocharc.json).
 */
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { oneLine, Workbench } from './workbench';

const url = process.env.NETPATH_UI_URL;
const out = process.env.NETPATH_UI_OUT ?? path.resolve('test-output/ui');
const FIXTURE = 'overlap.netpath.yaml';
const fixtureText = fs.readFileSync(path.resolve('test/fixtures/workspace', FIXTURE), 'utf8');
/** 1-based line of the first occurrence of `needle` in the fixture, as the Problems panel shows it. */
const lineOf = (needle: string) => fixtureText.slice(0, fixtureText.indexOf(needle)).split('\n').length;

suite('NetPath in the workbench (packaged .vsix)', () => {
  let wb: Workbench;

  suiteSetup(async () => {
    assert.ok(url, 'NETPATH_UI_URL is not set: run this tier with `node scripts/vscode-host/run-ui-tests.mjs`');
    wb = await Workbench.open(url, out);
  });

  teardown(async function () {
    const t = this.currentTest;
    if (t?.state === 'failed')
      await wb
        ?.screenshot(`failed-${t.title.replace(/\W+/g, '-').replace(/^-|-$/g, '').toLowerCase()}`)
        .catch(() => {});
  });

  suiteTeardown(async () => {
    await wb?.close();
  });

  test('opens the topology file from the explorer', async () => {
    await wb.openFromExplorer(FIXTURE, 'serviceCIDRs');
    await wb.screenshot('01-topology-open');
  });

  test('lists cidr.overlap on the serviceCIDRs line in the Problems panel', async () => {
    await wb.runCommand('View: Focus Problems');
    const rows = wb.problems('cidr.overlap');
    await rows.first().waitFor();
    const texts = (await rows.allInnerTexts()).map(oneLine);
    const line = lineOf('serviceCIDRs:');
    // The row reads "message netpath(cidr.overlap) [Ln 10, Col 18]" (the brackets around the code are CSS).
    const onLine = new RegExp(`\\bnetpath\\W*cidr\\.overlap\\W*\\[Ln ${line}, Col`);
    assert.ok(
      texts.some((t) => onLine.test(t)),
      `no netpath cidr.overlap problem on line ${line}; rows:\n${texts.join('\n')}`,
    );
    await wb.screenshot('02-problems');
  });

  test('hovering the podCIDRs key explains CIDR', async () => {
    const text = oneLine(await wb.hover(wb.editorToken('podCIDRs'), 'CIDR'));
    await wb.screenshot('03-hover-podCIDRs');
    assert.ok(text.includes('Classless'), `the hover does not explain "Classless": ${text}`);
    await wb.dismiss();
  });

  test('"NetPath: Show Topology" shows the topology name in a webview and draws the graph laid out in its worker', async () => {
    await wb.runCommand('NetPath: Show Topology');
    const title = wb.webview().locator('#view-title');
    await title.waitFor();
    assert.equal(oneLine(await title.innerText()), 'overlap-lab');
    // The layout runs in a Web Worker made from a blob (the webview's CSP allows that and nothing else): in the
    // real webview, a worker that could not start would leave "The layout failed: …" instead of a graph.
    await wb.webview().locator('#graph-holder[data-ready]').waitFor();
    const status = oneLine(await wb.webview().locator('#graph-status').innerText());
    assert.match(status, /laid out in \d+ ms/);
    assert.ok((await wb.webview().locator('#graph .el.node').count()) >= 1, 'the nodes are drawn');
    await wb.screenshot('04-topology-webview');
  });

  test('"NetPath: Trace Packet…" through the quick picks, pod client to Service web, shows the hops', async () => {
    await wb.runCommand('View: Close All Editor Groups');
    await wb.runCommand('NetPath: Trace Packet');
    await wb.pick('overlap', 'overlap.netpath.yaml'); // No editor is open: which of the workspace's topologies?
    await wb.pick('pod default/client');
    await wb.screenshot('05-trace-pick-source');
    await wb.pick('Service default/web:http');
    const view = wb.webview();
    await view.locator('body', { hasText: 'KUBE-SEP' }).waitFor();
    const text = oneLine(await view.locator('body').innerText());
    await wb.screenshot('06-trace-view');
    for (const expected of ['pod:default/client', 'eth0', 'node:node1', '10.244.250.10', 'delivered']) {
      assert.ok(text.includes(expected), `the trace view does not show "${expected}": ${text.slice(0, 600)}`);
    }
  });

  test('clicking a hop in the trace view reveals its namespace in the YAML', async () => {
    await wb.webview().locator('#hops tbody tr[data-hop="0"] td').nth(1).click();
    const line = lineOf('- name: client');
    const position = wb.page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first();
    await wb.page
      .locator('.statusbar-item', { hasText: `Ln ${line},` })
      .first()
      .waitFor();
    assert.match(oneLine(await position.innerText()), new RegExp(`Ln ${line}, Col \\d+ \\(6 selected\\)`));
    await wb.screenshot('07-hop-revealed');
  });

  test('a "Trace from here" CodeLens starts a trace from that pod', async () => {
    await wb.runCommand('View: Close All Editor Groups');
    await wb.openQuick(FIXTURE, 'pods:'); // The editor comes back where the hop reveal left it.
    const lens = wb.page.locator('.codelens-decoration a', { hasText: 'Trace from here' }).first();
    await lens.waitFor();
    await wb.screenshot('08-codelens');
    await lens.click();
    await wb.pick('Service default/web:http');
    await wb.webview().locator('body', { hasText: 'KUBE-SEP' }).waitFor();
    assert.ok(oneLine(await wb.webview().locator('body').innerText()).includes('pod:default/client'));
    await wb.screenshot('09-trace-from-codelens');
  });

  test('a file over the default size limit says so in a notification with a way to the setting', async () => {
    await wb.runCommand('View: Close All Editor Groups');
    // Just over netpath.maxFileSizeKB's default (8,192 KB): a NetPath document padded with comment lines.
    const name = 'zz-too-large.netpath.yaml';
    const big = path.resolve('test/fixtures/workspace', name);
    const padding = `# ${'x'.repeat(1021)}\n`.repeat(8200);
    fs.writeFileSync(big, `apiVersion: netpath.dev/v1alpha1\nkind: Topology\nmetadata: {name: big}\n${padding}`);
    try {
      await wb.openFromExplorer(name, 'apiVersion');
      const toast = wb.page.locator('.notifications-toasts .notification-toast', { hasText: name }).first();
      await toast.waitFor();
      assert.match(oneLine(await toast.innerText()), /over the limit of 8192 KB/);
      assert.ok(await toast.getByRole('button', { name: 'Open Settings' }).isVisible(), 'the toast offers the setting');
      await wb.screenshot('10-too-large-notice');
    } finally {
      await wb.runCommand('View: Close All Editor Groups');
      fs.rmSync(big, { force: true });
    }
  });
});
