/**
 * The walkthrough, clicked as a newcomer clicks it in the packaged extension: each "Trace it" button opens
 * its trace, and the last step opens the example with mistakes (its problems listed) and applies its quick
 * fixes (what is left is what the step says to fix by hand). Screenshots in test-output/ui/walkthrough-*.png.
 */
import * as assert from 'node:assert/strict';
import path from 'node:path';
import { oneLine, Workbench } from './workbench';

const url = process.env.NETPATH_UI_URL;
const out = process.env.NETPATH_UI_OUT ?? path.resolve('test-output/ui');
const TITLE = 'Learn Kubernetes networking with NetPath';

/** Each step's title, and what its trace view must show. */
const TRACES: [string, string[]][] = [
  ['Container to container', ['pod:default/client', 'lo', 'localhost']],
  ['Pod to pod', ['pod:default/web-2', 'cni0', 'delivered']],
  ['Pod to Service', ['KUBE-SEP', 'DNAT', '10.96.0.10']],
  ['External to Service', ['external:laptop', '30080', 'DNAT']],
];

suite('the walkthrough (packaged .vsix)', () => {
  let wb: Workbench;

  suiteSetup(async () => {
    assert.ok(url, 'NETPATH_UI_URL is not set: run this tier with `node scripts/vscode-host/run-ui-tests.mjs`');
    wb = await Workbench.open(url, out);
  });

  teardown(async function () {
    const t = this.currentTest;
    if (t?.state === 'failed')
      await wb
        ?.screenshot(`failed-walkthrough-${t.title.replace(/\W+/g, '-').replace(/^-|-$/g, '').toLowerCase()}`)
        .catch(() => {});
  });

  suiteTeardown(async () => {
    // The example is an untitled, edited document: close it without saving, or the editor would keep it
    // (and ask about it) in the next suite.
    if (wb) {
      await wb.runCommand('View: Close All Editor Groups').catch(() => {});
      const dontSave = wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" }).first();
      if (
        await dontSave
          .waitFor({ timeout: 5000 })
          .then(() => true)
          .catch(() => false)
      )
        await dontSave.click();
      await wb.page
        .locator('.monaco-dialog-box')
        .waitFor({ state: 'detached' })
        .catch(() => {});
    }
    await wb?.close();
  });

  /** "Welcome: Open Walkthrough..." then NetPath's walkthrough in its own quick pick. */
  async function openWalkthrough(): Promise<void> {
    await wb.page.keyboard.press('F1');
    const input = wb.page.locator('.quick-input-widget input.input');
    await input.fill('>Welcome: Open Walkthrough');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' }).first().waitFor();
    await wb.page.keyboard.press('Enter');
    await wb.page.locator('.quick-input-widget input.input[placeholder*="walkthrough"]').waitFor();
    await wb.pick(TITLE);
    await wb.page.locator('.gettingStartedContainer', { hasText: TITLE }).first().waitFor();
  }

  /** Opens the walkthrough (alone in the editor area) and expands the step titled `step`. */
  async function openStep(step: string): Promise<void> {
    await wb.runCommand('View: Close All Editor Groups');
    await openWalkthrough();
    const title = wb.page.locator('.getting-started-step', { hasText: step }).first();
    await title.waitFor();
    await title.click();
  }

  /**
   * Whether the Problems panel lists a problem with `code`: its filter box narrows the list to that code
   * (the list is virtual: rows scrolled out of view are not in the page).
   */
  async function listed(code: string): Promise<boolean> {
    const filter = wb.page.getByPlaceholder(/^Filter \(e\.g\./).first();
    await filter.fill(code);
    const row = wb.problems(code).first();
    const shown = await row
      .waitFor({ timeout: 5000 })
      .then(() => true)
      .catch(() => false);
    await filter.fill('');
    return shown;
  }

  /** The visible button of the open step whose label is `label`. */
  const button = (label: string) =>
    wb.page.locator('.step-description-container .button-container .monaco-button:visible', { hasText: label });

  for (const [step, expected] of TRACES) {
    test(`"${step}": its Trace it button opens the trace`, async () => {
      await openStep(step);
      await button('Trace it').click();
      const view = wb.webview();
      await view.locator('#hops tbody tr').first().waitFor();
      const text = oneLine(await view.locator('body').innerText());
      await wb.screenshot(`walkthrough-${step.replace(/\W+/g, '-').toLowerCase()}`);
      for (const e of expected)
        assert.ok(text.includes(e), `the trace of "${step}" does not show "${e}": ${text.slice(0, 500)}`);
    });
  }

  test('"Compare CNI plug-ins": each button traces the request on that plug-in\'s cluster', async () => {
    const shows: [string, string[]][] = [
      ['Trace it with Calico VXLAN', ['vxlan.calico', 'vni 4096', 'delivered']],
      ['Trace it with ptp (kindnet)', ['pod:default/web-2', 'delivered']],
    ];
    for (const [label, expected] of shows) {
      await openStep('Compare CNI plug-ins');
      await button(label).click();
      const view = wb.webview();
      await view.locator('#hops tbody tr').first().waitFor();
      const text = oneLine(await view.locator('body').innerText());
      await wb.screenshot(`walkthrough-cni-${label.replace(/\W+/g, '-').toLowerCase()}`);
      for (const e of expected) assert.ok(text.includes(e), `"${label}" does not show "${e}": ${text.slice(0, 500)}`);
    }
  });

  test('"Find and fix mistakes": the example opens with its problems, the quick fixes leave three to fix by hand', async () => {
    await openStep('Find and fix mistakes');
    await button('Open the example').click();
    await wb.page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'mistakes-lab' }).first().waitFor();
    await wb.problems('cidr.overlap').first().waitFor();
    for (const code of [
      'ip.outside-range',
      'bridge.hairpin-off',
      'nat.pod-to-pod',
      'route.missing',
      'service.no-endpoints',
    ])
      assert.ok(await listed(code), `the Problems panel does not list ${code}`);
    await wb.screenshot('walkthrough-mistakes-opened');

    await openWalkthrough();
    await wb.page.locator('.getting-started-step', { hasText: 'Find and fix mistakes' }).first().click();
    await button('Apply the quick fixes').click();
    await wb.page.locator('.notifications-toasts', { hasText: 'NetPath applied' }).first().waitFor();
    await wb.runCommand('View: Focus Problems');
    await wb.problems('cidr.overlap').first().waitFor({ state: 'detached' });
    for (const code of ['ip.outside-range', 'bridge.hairpin-off'])
      assert.ok(!(await listed(code)), `${code} is still listed after the quick fixes`);
    for (const code of ['nat.pod-to-pod', 'route.missing', 'service.no-endpoints'])
      assert.ok(await listed(code), `${code} is no longer listed`);
    await wb.screenshot('walkthrough-mistakes-fixed');
    // The example is an untitled copy the quick fixes changed: close it unsaved, so the next suite's "Close All Editor
    // Groups" meets no save dialog.
    await wb.runCommand('View: Close All Editor Groups');
    await wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" }).click();
    await wb.page.locator('.monaco-dialog-box').waitFor({ state: 'detached' });
  });
});
