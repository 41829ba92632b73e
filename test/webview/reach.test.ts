/**
 * The reachability matrix view in real headless Chromium: the cells of examples/network-policies, filters,
 * explanations with reveal, the trace request, exports, dual-stack cells, a thousand classes drawn virtually,
 * hostile names as text, and a screenshot that is no blank grid.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse } from '../../src/core';
import type { HostMessage, ReachViewData, ReachViewState, WebviewMessage } from '../../src/protocol/messages';
import { reachExplain, reachView, type ReachView } from '../../src/vscode/reach-data';
import { ROOT, savePng, startHarness, until, type Harness, type View } from './harness';

const STATE: ReachViewState = {
  view: 'reach',
  file: 'file:///work/cluster.netpath.yaml',
  query: { from: '', to: '', port: '' },
};
const OPTIONS = {
  policy: { ipBlockPodIPs: 'match', nodeTraffic: 'allow' },
  source: { ipBlockPodIPs: 'default', nodeTraffic: 'default' },
} as const;

function exampleView(port = 'TCP/8080'): ReachView {
  const dir = path.join(ROOT, 'examples/network-policies');
  const analysis = analyse(
    fs.readdirSync(dir).map((f) => ({ path: `/work/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') })),
  );
  return reachView(analysis, { ...STATE.query, port }, OPTIONS);
}

const message = (data: ReachViewData, state: ReachViewState = STATE): HostMessage => ({ type: 'reach', state, data });

/** A synthetic matrix of `n` classes in 50 namespaces: what a 15,000-pod cluster's thousand classes send. */
function bigData(n: number): ReachViewData {
  const groups = Array.from({ length: n }, (_, i) => ({
    namespace: `ns-${String(Math.floor(i / 20)).padStart(2, '0')}`,
    labels: [`app=app-${i % 20}`],
    pods: [`ns-${Math.floor(i / 20)}/app-${i}-0`],
    podCount: 15,
    ingressPolicies: i % 3 ? [`ns-${Math.floor(i / 20)}/default-deny`] : [],
    egressPolicies: [],
  }));
  const idx = groups.map((_, i) => i);
  let cells = '';
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = 0; j < n; j++) row.push(j % 3 && Math.floor(i / 20) !== Math.floor(j / 20) ? 'i' : 'a');
    cells += row.join('');
  }
  return {
    topology: 'big',
    options: {
      ipBlockPodIPs: 'match',
      nodeTraffic: 'allow',
      from: { ipBlockPodIPs: 'default', nodeTraffic: 'default' },
    },
    ports: ['TCP/8080'],
    port: 'TCP/8080',
    groups,
    sources: idx,
    destinations: idx,
    families: [{ family: 'IPv4', cells }],
    omitted: [],
    problems: [],
  };
}

suite('reachability matrix view', () => {
  let h: Harness;
  suiteSetup(async () => {
    h = await startHarness();
  });
  suiteTeardown(async () => {
    await h?.close();
  });

  async function openMatrix(data: ReachViewData, viewport?: { width: number; height: number }): Promise<View> {
    const v = await h.open(STATE, 'dark', viewport);
    await v.post(message(data));
    await v.page.locator('#grid .cell').first().waitFor();
    return v;
  }

  const shownCells = (v: View) => v.page.locator('#grid .cell').count();
  const rowHeads = (v: View) => v.page.locator('#grid .row-head').allInnerTexts();

  test('draws one cell per class pair of examples/network-policies, allowed and blocked as the core says', async () => {
    const rv = exampleView();
    const d = rv.data;
    const v = await openMatrix(d);
    try {
      assert.equal(await shownCells(v), d.sources.length * d.destinations.length);
      const cells = d.families[0].cells;
      assert.equal(await v.page.locator('#grid .cell.allowed').count(), [...cells].filter((c) => c === 'a').length);
      assert.equal(
        await v.page.locator('#grid .cell.blocked').count(),
        [...cells].filter((c) => 'eib'.includes(c)).length,
      );
      assert.match(await v.page.locator('#reach-status').innerText(), /on TCP\/8080: \d+ of \d+ cells blocked/);
      assert.match(
        await v.page.locator('#reach-status').innerText(),
        /ipBlock matches pod IPs \(default\), node traffic always allowed \(default\)/,
      );
      // A screenshot of the grid: not blank, and both verdict colours are on it.
      const png = await v.page.locator('#grid').screenshot();
      savePng('reach-matrix', png);
      const colours = await v.page
        .locator('#grid .cell')
        .evaluateAll((cells) =>
          cells.map(
            (c) =>
              (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
                c,
              ).backgroundColor,
          ),
        );
      assert.ok(new Set(colours).size >= 2, `cells drawn in ${new Set(colours).size} colour(s)`);
      const ink = await inkOf(v, png);
      assert.ok(ink > 0.05, `the matrix is nearly blank (${(ink * 100).toFixed(1)}% of its pixels drawn)`);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('filters: a namespace, only blocked, rows by namespace change what is shown', async () => {
    const d = exampleView().data;
    const v = await openMatrix(d);
    try {
      const all = await shownCells(v);
      await setSelect(v, 'from-namespace', 'shop');
      await until(
        v,
        `document.querySelectorAll('#grid .row-head').length === ${d.sources.filter((s) => d.groups[s].namespace === 'shop').length}`,
      );
      assert.ok((await rowHeads(v)).every((t) => t.startsWith('shop')));
      assert.ok((await shownCells(v)) < all);
      await setSelect(v, 'from-namespace', '');
      // To dev: only shop's classes are blocked from it; only blocked leaves their rows.
      await setSelect(v, 'to-namespace', 'dev');
      await until(v, `document.querySelectorAll('#grid .row-head').length === ${d.sources.length}`);
      await v.page.locator('#only-blocked').click();
      await until(v, `document.querySelectorAll('#grid .row-head').length < ${d.sources.length}`);
      const left = await rowHeads(v);
      assert.ok(left.length > 0 && left.every((t) => t.startsWith('shop')), left.join(' | '));
      assert.equal(await v.page.locator('#grid .cell.allowed').count(), 0);
      await setSelect(v, 'to-namespace', '');
      await v.page.locator('#only-blocked').click();
      await setSelect(v, 'rows-by', 'namespaces');
      const namespaces = [...new Set(d.sources.map((s) => d.groups[s].namespace))];
      await until(v, `document.querySelectorAll('#grid .row-head.ns').length === ${namespaces.length}`);
      await v.page.locator('#grid .row-head.ns', { hasText: 'shop' }).click();
      await v.page.locator('#grid .row-head.nested').first().waitFor();
      // Exports carry the view's filters.
      await v.page.locator('#export-csv').click();
      const exp = (await v.posted()).find((m) => m.type === 'exportReach');
      assert.deepEqual(exp, {
        type: 'exportReach',
        format: 'csv',
        fromNamespace: '',
        toNamespace: '',
        onlyBlocked: false,
      });
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('a click explains the cell with the deciding policies (reveal in YAML); the trace button and a double-click post the trace request', async () => {
    const rv = exampleView('TCP/5432');
    const d = rv.data;
    const v = await openMatrix(d);
    try {
      const g = (pod: string) => rv.groups.findIndex((x) => x.members.some((m) => m.id === pod));
      const row = d.sources.indexOf(g('shop/web-1'));
      const col = d.destinations.indexOf(g('shop/db-0'));
      await v.page.locator(`#grid .cell[data-row="${row}"][data-col="${col}"]`).click();
      const ask = (await v.posted()).find((m) => m.type === 'explainCell');
      assert.deepEqual(ask, { type: 'explainCell', from: g('shop/web-1'), to: g('shop/db-0'), family: 'IPv4' });
      const explain = reachExplain(rv, g('shop/web-1'), g('shop/db-0'), 'IPv4')!;
      await v.post({ type: 'reachExplain', explain });
      await v.page.locator('#explain h2', { hasText: 'shop/web-1 → shop/db-0 on TCP/5432' }).waitFor();
      assert.match(await v.page.locator('#explain').innerText(), /blocked/);
      const side = explain.ingress.allowed ? 'egress' : 'ingress';
      const policy = (explain.ingress.allowed ? explain.egress : explain.ingress).policies[0];
      await v.page.locator(`#reveal-${side}-policy-0`).click();
      await v.page.locator('#trace-cell').click();
      const posted = await v.posted();
      assert.deepEqual(
        posted.find((m) => m.type === 'reveal'),
        { type: 'reveal', ...policy.span },
      );
      const traces = posted.filter((m): m is Extract<WebviewMessage, { type: 'retrace' }> => m.type === 'retrace');
      assert.deepEqual(traces, [
        { type: 'retrace', request: { from: 'pod/shop/web-1', to: 'pod/shop/db-0:5432', proto: 'tcp' } },
      ]);
      // A double-click on another cell: explained, then traced once the answer is there.
      const row2 = d.sources.indexOf(g('shop/api-1'));
      await v.page.locator(`#grid .cell[data-row="${row2}"][data-col="${col}"]`).dblclick();
      await v.post({ type: 'reachExplain', explain: reachExplain(rv, g('shop/api-1'), g('shop/db-0'), 'IPv4')! });
      await until(v, `window.__posted.filter((m) => m.type === 'retrace').length === 2`);
      const last = (await v.posted()).filter((m) => m.type === 'retrace').pop();
      assert.deepEqual(last, {
        type: 'retrace',
        request: { from: 'pod/shop/api-1', to: 'pod/shop/db-0:5432', proto: 'tcp' },
      });
      // The keyboard: arrows move the selection and ask again.
      await v.page.locator('#grid').focus();
      await v.page.keyboard.press('ArrowRight');
      await until(
        v,
        `document.querySelector('#grid .cell.selected')?.getAttribute('data-col') === '${Math.min(col + 1, d.destinations.length - 1)}'`,
      );
    } finally {
      await v.close();
    }
  });

  test('a port and selectors go to the host; its answer redraws the matrix', async () => {
    const v = await openMatrix(exampleView().data);
    try {
      await v.page.locator('#to-selector').click();
      await v.page.keyboard.type('shop:app=db');
      await v.page.keyboard.press('Enter');
      await until(v, `window.__posted.some((m) => m.type === 'reachQuery')`);
      const q = (await v.posted()).find((m) => m.type === 'reachQuery');
      assert.deepEqual(q, { type: 'reachQuery', query: { from: '', to: 'shop:app=db', port: '' } });
      const narrowed = exampleView('TCP/5432').data;
      await v.post(message(narrowed, { ...STATE, query: { from: '', to: '', port: 'TCP/5432' } }));
      await v.page.locator('#reach-status', { hasText: 'TCP/5432' }).waitFor();
    } finally {
      await v.close();
    }
  });

  test('a thousand classes (a million cells) are drawn virtually: only the cells in sight exist, scrolling draws the rest', async () => {
    const d = bigData(1000);
    const v = await openMatrix(d, { width: 1400, height: 900 });
    try {
      const shown = await shownCells(v);
      assert.ok(shown > 100 && shown < 5000, `${shown} cells in the page`);
      await v.page.locator('#grid').evaluate((g) => {
        g.scrollTop = g.scrollHeight;
        g.scrollLeft = g.scrollWidth;
      });
      await until(
        v,
        `[...document.querySelectorAll('#grid .cell')].some((c) => c.getAttribute('data-row') === '999' && c.getAttribute('data-col') === '999')`,
      );
      assert.ok((await shownCells(v)) < 5000);
      // Rows by namespace: 50 rows, each aggregating its classes.
      await setSelect(v, 'rows-by', 'namespaces');
      await until(v, `document.querySelectorAll('#grid .row-head.ns').length > 0`);
      assert.ok(
        (await v.page.locator('#grid .cell.partial').count()) + (await v.page.locator('#grid .cell.allowed').count()) >
          0,
      );
      assert.match(await v.page.locator('#grid-count').innerText(), /^50 rows × 1000 columns shown$/);
    } finally {
      await v.close();
    }
  });

  test('dual-stack: a cell per family where the families differ', async () => {
    const d = bigData(4);
    const v4 = 'aiai'.repeat(4);
    const v6 = 'aaai'.repeat(4);
    const v = await openMatrix({
      ...d,
      families: [
        { family: 'IPv4', cells: v4 },
        { family: 'IPv6', cells: v6 },
      ],
    });
    try {
      assert.equal(await v.page.locator('#grid .cell.split').count(), 4);
      assert.match((await v.page.locator('#grid .cell.split').first().innerText()).replace(/\s+/g, ' '), /4✕ 6✓/);
      assert.match(await v.page.locator('#reach-status').innerText(), /IPv4 and IPv6/);
    } finally {
      await v.close();
    }
  });

  test('renders hostile names as text and ignores malformed messages', async () => {
    const HOSTILE = '<img src=x onerror=alert(1)>';
    const d = bigData(3);
    const v = await openMatrix({
      ...d,
      groups: d.groups.map((g) => ({ ...g, namespace: HOSTILE, labels: [HOSTILE] })),
    });
    try {
      assert.equal(await v.page.locator('#grid img').count(), 0);
      assert.ok((await rowHeads(v)).some((t) => t.includes('<img')));
      await v.post({ type: 'reach', state: STATE, data: { ...d, families: [{ family: 'IPv4', cells: 'a' }] } });
      await v.page.locator('#reach-status', { hasText: 'ignored a malformed message' }).waitFor();
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });
});

async function setSelect(v: View, id: string, value: string): Promise<void> {
  await v.page.locator(`#${id}`).evaluate((e, x) => {
    (e as unknown as { value: string }).value = x;
    e.dispatchEvent(new Event('change'));
  }, value);
}

/** The share of the grid's pixels that differ clearly from its most common colour. */
async function inkOf(v: View, png: Buffer): Promise<number> {
  const p = await v.context.newPage();
  try {
    return (await p.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png.toString('base64')}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const counts = new Map();
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      let bg = 0, most = 0;
      for (const [k, n] of counts) if (n > most) { most = n; bg = k; }
      const br = bg >> 16, bgr = (bg >> 8) & 255, bb = bg & 255;
      let ink = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - br) + Math.abs(d[i + 1] - bgr) + Math.abs(d[i + 2] - bb) > 60) ink++;
      return ink / (d.length / 4);
    })()`)) as number;
  } finally {
    await p.close();
  }
}
