/** The trace view in real headless Chromium: golden traces, stepping, load-balanced paths, escaping, CSP, themes. */
import assert from 'node:assert/strict';
import type { Hop, NetfilterStep, PolicyStep, TraceResult, WebviewMessage } from '../../src/protocol/messages';
import fs from 'node:fs';
import path from 'node:path';
import { golden, goldenNames, goldenNftables, traceMessage, TRACES, type Golden } from './fixtures';
import { analyse, traceFlow } from '../../src/core';
import type { Disposition } from '../../src/core/trace/types';
import { traceViewData } from '../../src/vscode/view-data';
import type { Locator } from 'playwright-core';
import { pixelStats, savePng, startHarness, until, type Harness, type Theme, type View } from './harness';

const oneLine = (t: string | null) => (t ?? '').replace(/\s+/g, ' ').trim();

/** What the disposition line says for each way a trace ends, in the words a reader sees (not the protocol's names). */
const DISPOSITION_SHOWN: Record<Disposition, RegExp> = {
  delivered: /delivered/i,
  dropped: /dropped/i,
  rejected: /rejected/i,
  'no-route': /no route/i,
  loop: /routing loop/i,
  exited: /left the modelled network/i,
};
const HOSTILE = '<img src=x onerror=alert(1)>';

/** A client rectangle as measured in the page: left, top, right, bottom, width, height. */
interface Rect {
  x: number;
  y: number;
  r: number;
  b: number;
  w: number;
  h: number;
}

suite('trace view', () => {
  let h: Harness;
  suiteSetup(async () => {
    h = await startHarness();
  });
  suiteTeardown(async () => {
    await h?.close();
  });

  async function openTrace(g: Golden, theme: Theme = 'dark'): Promise<View> {
    const v = await h.open(g.state, theme);
    await v.post(traceMessage(g));
    await v.page.locator('#hops tbody tr').first().waitFor();
    return v;
  }

  const svgCount = (v: View) => v.page.locator('#diagram svg *').count();

  /**
   * The opening every rule-path test shares: the golden's trace opened, its one `kind` mark in the diagram clicked
   * (the hop where a rule rewrote or dropped the packet, or a policy denied it), then `check` with the view and the
   * drawn rule path; the view is closed whatever `check` does.
   */
  async function atMarkedRulePath(
    g: Golden,
    kind: 'dnat' | 'drop' | 'policy',
    check: (v: View, rulePath: Locator) => Promise<void>,
  ): Promise<void> {
    const v = await openTrace(g);
    try {
      const mark = v.page.locator(`#diagram .mark.mark-${kind}`);
      assert.equal(await mark.count(), 1, `one ${kind} mark in the diagram`);
      await mark.click();
      await check(v, v.page.locator('#rulepath-holder svg'));
    } finally {
      await v.close();
    }
  }

  test("a packet its sender's OUTPUT dropped shows where it ended and why, not an empty hop table", async () => {
    // policy-node-traffic-judged sets nodeTraffic: policy, so node1's own connection to web-1 is judged in node1's
    // filter OUTPUT; no ingress rule admits port 9999, so it never reaches a device.
    const g = golden('policy-node-traffic-judged');
    const text = fs.readFileSync(path.join(TRACES, 'policy-node-traffic-judged', 'topology.yaml'), 'utf8');
    const analysis = analyse([{ path: '/work/topology.yaml', text }]);
    const request = { from: 'node/node1', to: 'pod/shop/web-1:9999', proto: 'tcp' as const, reply: false };
    const result = traceFlow(analysis.topology, request).result;
    assert.equal(result?.paths[0].hops.length, 0, 'the trace crosses no device');
    const state = { ...g.state, request };
    const v = await h.open(state);
    try {
      await v.post({ type: 'trace', state, data: { ...traceViewData(analysis, request), result } });
      const origin = v.page.locator('#origin');
      await origin.waitFor();
      const shown = oneLine(await origin.innerText());
      assert.match(shown, /never reached a device: it ended in node:node1/);
      assert.match(shown, /ingress to shop\/web-1 from 10\.244\.1\.1: denied, no ingress rule of/);
      assert.equal(await v.page.locator('#hops').count(), 0, 'no empty hop table');
      assert.ok(await v.page.locator('#diagram').isHidden(), 'no empty diagram');
      assert.match(
        oneLine(await v.page.locator('#disposition').innerText()),
        /dropped in node:node1 before any device.*NetworkPolicy/i,
      );
      assert.ok((await origin.locator('.steps li').count()) >= 2, 'every step taken there is listed');
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('renders every golden trace: title, disposition, every path, one table row per hop, a diagram; no CSP violation', async () => {
    const first = golden('pod-to-service');
    const v = await h.open(first.state);
    try {
      for (const name of goldenNames()) {
        const g = golden(name);
        await v.post(traceMessage(g));
        await v.page.locator('#view-title', { hasText: `${g.state.request.from} → ${g.state.request.to}` }).waitFor();
        const path0 = g.expected.paths[0];
        assert.equal(
          await v.page.locator('vscode-radio[name=path]').count(),
          g.expected.paths.length,
          `${name}: one choice per path`,
        );
        assert.equal(await v.page.locator('#hops tbody tr').count(), path0.hops.length, `${name}: one row per hop`);
        const disposition = await v.page.locator('#disposition').innerText();
        assert.match(disposition, DISPOSITION_SHOWN[path0.disposition], `${name}: ${disposition}`);
        if (path0.reason === 'no-listener') assert.match(disposition, /no container listens/);
        if (path0.origin && !path0.hops.length) {
          // It never reached a device: no diagram, the origin block says where it ended and why.
          assert.ok(await v.page.locator('#origin').isVisible(), `${name}: the origin block is shown`);
          assert.ok(await v.page.locator('#diagram').isHidden(), `${name}: no empty diagram`);
        } else assert.ok((await svgCount(v)) > 20, `${name}: the diagram has elements`);
        assert.equal(await v.page.locator('#diagram .hop').count(), path0.hops.length, `${name}: a badge per hop`);
      }
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('draws a VXLAN tunnel: both VTEPs, the outer packet on the underlay, the outer header in the hop table', async () => {
    const g = golden('flannel-vxlan-pod-to-pod-cross-node');
    const v = await openTrace(g);
    try {
      const tunnel = v.page.locator('#diagram .tunnel');
      assert.equal(await tunnel.count(), 1, 'one tunnel');
      assert.equal(await tunnel.getAttribute('data-from'), 'node:node1|flannel.1');
      assert.equal(await tunnel.getAttribute('data-to'), 'node:node2|flannel.1');
      assert.equal(
        oneLine(await tunnel.locator('.tunnel-label').textContent()),
        'VXLAN outer 192.168.56.11 -> 192.168.56.12 udp/8472 vni 1',
      );
      // The pipe runs from one VTEP down to the underlay and up to the other: a path with visible length.
      const box = await tunnel.locator('.tunnel-pipe').boundingBox();
      assert.ok(box && box.width > 100 && box.height > 10, JSON.stringify(box));
      // Both endpoints are drawn as VTEPs, inside their nodes, not as underlay interfaces.
      assert.equal(await v.page.locator('#diagram .device.dev-vtep').count(), 2);
      assert.deepEqual(await v.page.locator('#diagram .device.dev-vtep title').allTextContents(), [
        'flannel.1 in node:node1',
        'flannel.1 in node:node2',
      ]);
      // The underlay hops show the outer header under the packet of the flow; the VTEP hops do not.
      const rows = v.page.locator('#hops tbody tr');
      const outer = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('.outer')?.textContent ?? ''));
      const path0 = g.expected.paths[0];
      assert.deepEqual(
        outer
          .map((o, i) => (o ? `${path0.hops[i].netns} ${path0.hops[i].device} ${path0.hops[i].dir}` : ''))
          .filter(Boolean),
        ['node:node1 eth0 out', 'node:node2 eth0 in'],
      );
      assert.match(outer.find(Boolean) ?? '', /^VXLAN outer 192\.168\.56\.11 -> 192\.168\.56\.12 udp\/8472 vni 1$/);
      // The encapsulation and decapsulation read as steps of the VTEP hops.
      const cells = await rows.locator('td:last-child').allInnerTexts();
      // Before -> after at the VTEPs: the packet, then the packet inside the outer header (and back).
      const wrapped =
        /VXLAN 192\.168\.56\.11 -> 192\.168\.56\.12 udp\/8472 vni 1 \[ 10\.244\.1\.10:40000 → 10\.244\.2\.10:8080 \]/;
      assert.match(cells[3], /encapsulation/i);
      assert.match(cells[3], new RegExp(`10\\.244\\.1\\.10:40000 → 10\\.244\\.2\\.10:8080 → ${wrapped.source}`));
      assert.match(cells[6], /decapsulation/i);
      assert.match(cells[6], new RegExp(`${wrapped.source} → 10\\.244\\.1\\.10:40000 → 10\\.244\\.2\\.10:8080`));
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('draws an IPv6 VXLAN tunnel of a dual-stack overlay: the flannel-v6.1 VTEPs and the outer IPv6 header', async () => {
    const g = golden('flannel-vxlan-ipv6-pod-to-pod-cross-node');
    const v = await openTrace(g);
    try {
      const tunnel = v.page.locator('#diagram .tunnel');
      assert.equal(await tunnel.count(), 1, 'one tunnel');
      assert.equal(await tunnel.getAttribute('data-from'), 'node:node1|flannel-v6.1');
      assert.equal(await tunnel.getAttribute('data-to'), 'node:node2|flannel-v6.1');
      assert.equal(
        oneLine(await tunnel.locator('.tunnel-label').textContent()),
        'VXLAN outer fd00:56::11 -> fd00:56::12 udp/8472 vni 1',
      );
      const box = await tunnel.locator('.tunnel-pipe').boundingBox();
      assert.ok(box && box.width > 100 && box.height > 10, JSON.stringify(box));
      assert.deepEqual(await v.page.locator('#diagram .device.dev-vtep title').allTextContents(), [
        'flannel-v6.1 in node:node1',
        'flannel-v6.1 in node:node2',
      ]);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('says in plain words where a packet was delivered and why the pod sees another client address', async () => {
    const v = await openTrace(golden('masquerade-all'));
    try {
      const text = await v.page.locator('#disposition').innerText();
      assert.match(
        text,
        /delivered to container app of pod default\/web-1 on port 8080; the pod sees the client as 10\.244\.1\.1 because KUBE-POSTROUTING masqueraded it/,
      );
      // The NAT rewrite shows before and after with the changed parts marked.
      assert.ok((await v.page.locator('#hops mark.changed').count()) >= 2);
    } finally {
      await v.close();
    }
  });

  test('steps through the hops with the buttons and the arrow keys; the diagram follows', async () => {
    const g = golden('pod-to-pod-cross-node');
    const v = await openTrace(g);
    const n = g.expected.paths[0].hops.length;
    const current = async () => Number(await v.page.locator('#diagram .hop.current').getAttribute('data-hop'));
    try {
      assert.equal(await current(), 0);
      await v.page.locator('#hop-next').click();
      assert.equal(await current(), 1);
      await v.page.locator('#diagram').focus();
      await v.page.keyboard.press('ArrowRight');
      await v.page.keyboard.press('ArrowRight');
      assert.equal(await current(), 3);
      assert.match(await v.page.locator('#hop-position').innerText(), new RegExp(`Hop 4 of ${n}`));
      await v.page.keyboard.press('ArrowLeft');
      assert.equal(await current(), 2);
      await v.page.keyboard.press('End');
      assert.equal(await current(), n - 1);
      assert.equal(await v.page.locator('#hops tbody tr.current').getAttribute('data-hop'), String(n - 1));
      await v.page.locator('#hop-first').click();
      assert.equal(await current(), 0);
      // The drawn way grows with the steps.
      const before = await v.page.locator('#diagram polyline.done').count();
      await v.page.keyboard.press('End');
      assert.ok((await v.page.locator('#diagram polyline.done').count()) >= before);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('does not jump: opens at its title, Next never scrolls the page, the stepper stays under the mouse, in a narrow or a wide panel', async () => {
    const g = golden('nodeport-etp-cluster');
    const n = g.expected.paths[0].hops.length;
    for (const viewport of [
      { width: 1600, height: 600 },
      { width: 480, height: 800 },
    ]) {
      const v = await h.open(g.state, 'dark', viewport);
      const at = `${viewport.width}x${viewport.height}`;
      try {
        await v.post(traceMessage(g));
        await v.page.locator('#hops tbody tr').first().waitFor();
        assert.equal(await v.page.evaluate('window.scrollY'), 0, `${at}: opened scrolled`);
        assert.ok(await v.page.locator('#view-title').isVisible());
        const next = v.page.locator('#hop-next');
        const at0 = await next.boundingBox();
        for (let i = 1; i < n; i++) {
          await next.click();
          assert.equal(await v.page.evaluate('window.scrollY'), 0, `${at}: Next scrolled the page at hop ${i + 1}`);
          assert.deepEqual(await next.boundingBox(), at0, `${at}: the stepper moved at hop ${i + 1}`);
        }
        // The current row is shown inside the table's own scroll box.
        const row = await v.page.locator('#hops tbody tr.current').boundingBox();
        const box = await v.page.locator('#hops-scroll').boundingBox();
        assert.ok(
          row && box && row.y >= box.y - 1 && row.y + row.height <= box.y + box.height + 1,
          `${at}: the row is hidden`,
        );
        // Scrolled down the page, the stepper is still on screen (sticky), and stepping from there scrolls nothing:
        // the page keeps its height whatever the hop's rule path.
        await v.page.locator('#hop-first').click();
        await v.page.mouse.move(10, viewport.height - 10);
        await v.page.mouse.wheel(0, 700);
        await until(v, 'window.scrollY > 0');
        const scrolled = await v.page.evaluate('window.scrollY');
        const stuck = await v.page.locator('#trace-toolbar').boundingBox();
        assert.ok(stuck && stuck.y >= 0 && stuck.y < 5, `${at}: the stepper scrolled away: ${JSON.stringify(stuck)}`);
        const there = await next.boundingBox();
        for (let i = 1; i < n; i++) {
          await next.click();
          assert.equal(
            await v.page.evaluate('window.scrollY'),
            scrolled,
            `${at}: Next scrolled the page at hop ${i + 1}`,
          );
          assert.deepEqual(await next.boundingBox(), there, `${at}: the stepper moved at hop ${i + 1} (scrolled)`);
        }
      } finally {
        await v.close();
      }
    }
  });

  /**
   * What a person sees of the diagram at one panel size: it fills the panel's width without a scroll bar, is drawn
   * 1:1 with its labels at the editor's font size, every label inside its box and every box inside the drawing, and it
   * is not blank.
   */
  async function assertDiagramFits(v: View, name: string): Promise<void> {
    // Measured in the page (a string: the tests' TypeScript has no DOM types).
    const m = (await v.page.evaluate(`(() => {
      const holder = document.getElementById('diagram');
      const svg = holder.querySelector('svg');
      const r = (e) => {
        const b = e.getBoundingClientRect();
        return { x: b.x, y: b.y, r: b.right, b: b.bottom, w: b.width, h: b.height };
      };
      const label = svg.querySelector('text.box-label');
      return {
        client: holder.clientWidth,
        scrollW: holder.scrollWidth,
        clientH: holder.clientHeight,
        scrollH: holder.scrollHeight,
        pageScrollW: document.documentElement.scrollWidth,
        pageW: document.documentElement.clientWidth,
        svg: r(svg),
        scale: svg.getScreenCTM().a,
        fontSize: getComputedStyle(label).fontSize,
        editorFont: getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-font-size').trim(),
        labelH: r(label).h,
        boxes: [...svg.querySelectorAll('g.box')].map((g) => ({
          netns: g.getAttribute('data-netns'),
          kind: g.getAttribute('class'),
          rect: r(g.querySelector('rect')),
          label: r(g.querySelector('text.box-label')),
          address: g.querySelector('text.address') ? r(g.querySelector('text.address')) : undefined,
        })),
        texts: [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent, ...r(t) })),
      };
    })()`)) as {
      client: number;
      scrollW: number;
      clientH: number;
      scrollH: number;
      pageScrollW: number;
      pageW: number;
      svg: Rect;
      scale: number;
      fontSize: string;
      editorFont: string;
      labelH: number;
      boxes: { netns: string; kind: string; rect: Rect; label: Rect; address?: Rect }[];
      texts: (Rect & { text: string })[];
    };
    const at = `${name} at ${m.pageW}px`;
    assert.ok(
      m.svg.w >= m.client - 2 && m.svg.w <= m.client + 1,
      `${at}: the diagram is ${m.svg.w}px in ${m.client}px`,
    );
    assert.ok(m.scrollW <= m.client + 1, `${at}: the diagram overflows its panel (${m.scrollW} > ${m.client})`);
    assert.ok(m.pageScrollW <= m.pageW + 1, `${at}: the page scrolls sideways`);
    assert.ok(
      m.scrollH <= m.clientH + 1,
      `${at}: part of the diagram is hidden in its panel (${m.scrollH} > ${m.clientH})`,
    );
    assert.ok(Math.abs(m.scale - 1) < 0.01, `${at}: drawn at ${m.scale}×, not 1:1`);
    assert.equal(m.fontSize, m.editorFont, `${at}: labels are not at the editor's font size`);
    assert.ok(m.labelH >= 13, `${at}: labels ${m.labelH}px high`);
    for (const b of m.boxes) {
      for (const t of [b.label, b.address].filter((x) => x !== undefined))
        assert.ok(t.x >= b.rect.x && t.r <= b.rect.r + 1, `${at}: a label sticks out of ${b.netns}'s box`);
      assert.ok(b.rect.x >= m.svg.x && b.rect.r <= m.svg.r + 1, `${at}: ${b.netns} is cut off`);
    }
    for (const t of m.texts)
      assert.ok(
        t.x >= m.svg.x - 1 && t.r <= m.svg.r + 1 && t.y >= m.svg.y - 1 && t.b <= m.svg.b + 1,
        `${at}: "${t.text}" is cut off`,
      );
    // Boxes of the same kind never overlap (pods sit inside their node, externals outside the cluster).
    const overlap = (a: Rect, b: Rect) => a.x < b.r && b.x < a.r && a.y < b.b && b.y < a.b;
    for (const [i, a] of m.boxes.entries())
      for (const b of m.boxes.slice(i + 1))
        if (a.kind === b.kind) assert.ok(!overlap(a.rect, b.rect), `${at}: ${a.netns} overlaps ${b.netns}`);
    const shot = await v.page.locator('#diagram').screenshot();
    savePng(`trace-diagram-${name}-${m.pageW}`, shot);
    const stats = await pixelStats(h.browser, shot);
    assert.ok(stats.variance > 100 && stats.distinct > 20, `${at}: the diagram is blank (${JSON.stringify(stats)})`);
  }

  test('the diagram fills the panel at any width, 1:1 with labels at the editor font size, nothing cut off', async () => {
    for (const name of ['pod-to-service', 'nodeport-etp-cluster', 'flannel-vxlan-pod-to-pod-cross-node']) {
      const g = golden(name);
      const v = await h.open(g.state, 'dark', { width: 480, height: 900 });
      try {
        await v.post(traceMessage(g));
        await v.page.locator('#diagram svg').waitFor();
        for (const width of [480, 760, 1200, 1920]) {
          await v.page.setViewportSize({ width, height: 900 });
          await until(
            v,
            `Math.abs(document.querySelector('#diagram svg').getBoundingClientRect().width - document.getElementById('diagram').clientWidth) < 2`,
          );
          await assertDiagramFits(v, name);
          // Stepping never moves a box (the layout depends on the paths and the width only).
          const before = await v.page.locator('#diagram g.box rect').evaluateAll((rs) => rs.map((x) => x.outerHTML));
          await v.page.locator('#hop-last').click();
          assert.deepEqual(
            await v.page.locator('#diagram g.box rect').evaluateAll((rs) => rs.map((x) => x.outerHTML)),
            before,
            `${name} at ${width}px: a box moved when stepping`,
          );
          await v.page.locator('#hop-first').click();
        }
        assert.deepEqual(await v.violations(), []);
      } finally {
        await v.close();
      }
    }
  });

  test('shows every path of a load-balanced flow with its probability, selectable; and the reply path', async () => {
    const g = golden('pod-to-service');
    const v = await openTrace(g);
    try {
      const labels = await v.page
        .locator('vscode-radio[name=path]')
        .evaluateAll((rs) => rs.map((r) => r.getAttribute('label') ?? ''));
      assert.equal(labels.length, 2);
      for (const l of labels) assert.match(l, /50%/);
      assert.match(labels[0], /web-1/);
      assert.match(labels[1], /web-2/);
      await v.page.locator('vscode-radio[name=path]').nth(1).click();
      await v.page.locator('#disposition', { hasText: 'default/web-2' }).waitFor();
      assert.equal(await v.page.locator('#hops tbody tr').count(), g.expected.paths[1].hops.length);
      await v.page.locator('#show-reply').click();
      await v.page.locator('h2', { hasText: 'Reply hops' }).waitFor();
      assert.equal(await v.page.locator('#hops tbody tr').count(), g.expected.paths[1].reply!.hops.length);
      assert.match(await v.page.locator('#disposition').innerText(), /Reply: Delivered/);
    } finally {
      await v.close();
    }
  });

  test('clicking a hop or a rule asks the host to reveal its source', async () => {
    const g = golden('pod-to-service');
    const v = await openTrace(g);
    try {
      await v.page.locator('#hops tbody tr').first().locator('td').nth(1).click();
      await v.page.locator('#hops tbody tr').nth(1).locator('details summary').click();
      await v.page.locator('#hops tbody tr').nth(1).locator('details li button.rule').first().click();
      const reveals = (await v.posted()).filter(
        (m): m is Extract<WebviewMessage, { type: 'reveal' }> => m.type === 'reveal',
      );
      const client = g.data.places.find((p) => p.netns === 'pod:default/client')!.span!;
      assert.deepEqual(reveals[0], { type: 'reveal', ...client });
      const rule = g.expected.paths[0].hops[1].steps.find(
        (s): s is NetfilterStep => s.kind === 'netfilter' && s.file !== undefined,
      )!;
      assert.deepEqual(reveals[1], { type: 'reveal', file: rule.file, start: rule.start, end: rule.end });
    } finally {
      await v.close();
    }
  });

  test('a NetworkPolicy drop says which policies isolate the pod, and its link reveals the policy in the YAML', async () => {
    const g = golden('policy-egress-denied');
    const v = await openTrace(g);
    try {
      const disposition = await v.page.locator('#disposition').innerText();
      assert.match(disposition, /a NetworkPolicy isolates the pod and none of its rules allows this connection/);
      const last = v.page.locator('#hops tbody tr').last();
      assert.match(await last.innerText(), /egress from shop\/web-1 to 10\.244\.2\.12:5432: denied/);
      await last.locator('.step > div button.rule').first().click();
      const reveals = (await v.posted()).filter(
        (m): m is Extract<WebviewMessage, { type: 'reveal' }> => m.type === 'reveal',
      );
      const step = g.expected.paths[0].hops.flatMap((h) => h.steps).find((s): s is PolicyStep => s.kind === 'policy')!;
      assert.deepEqual(reveals[0], { type: 'reveal', file: step.file, start: step.start, end: step.end });
    } finally {
      await v.close();
    }
  });

  test("draws each hop's rule path: hooks in kernel order, the chain walk, the split with its probability and the branch not taken, the verdict, NAT before → after", async () => {
    // The diagram marks where kube-proxy rewrote the packet; a click opens that hop's rule path.
    await atMarkedRulePath(golden('pod-to-service'), 'dnat', async (v, rp) => {
      assert.equal(await v.page.locator('#diagram .hop.current').getAttribute('data-hop'), '1');
      assert.match(
        await v.page.locator('#rulepath-title').innerText(),
        /^Rule path at hop 2: node:node1 vetha1d4b674 \(in\)$/,
      );
      const stage = rp.locator('.rp-stage[data-hook="PREROUTING"][data-table="nat"]');
      assert.equal(await stage.count(), 1);
      const chains = await stage
        .locator('.rp-chain')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-chain')));
      assert.deepEqual(chains.slice(0, 2), ['PREROUTING', 'KUBE-SERVICES']);
      assert.match(chains[2] ?? '', /^KUBE-SVC-/);
      assert.match(chains[3] ?? '', /^KUBE-SEP-/);
      assert.equal(await stage.locator('.rp-prob').first().textContent(), '50%');
      assert.match((await stage.locator('.rp-alt').allTextContents()).join(' '), /not taken \(50%\): KUBE-SEP-\w+/);
      assert.equal(oneLine(await stage.locator('.rp-verdict.nat > text').textContent()), 'DNAT');
      const nat = oneLine((await stage.locator('.rp-nat').allTextContents()).join(' '));
      assert.match(nat, /10\.244\.1\.10:40000 → 10\.96\.0\.10:80 ⇒ 10\.244\.1\.10:40000 → 10\.244\.1\.11:8080/);
      // Clicking a chain reveals its rule.
      await stage.locator('.rp-chain[data-chain^="KUBE-SEP-"]').click();
      const reveals = (await v.posted()).filter((m) => m.type === 'reveal');
      assert.ok(reveals.length >= 1, 'no reveal');
      const shot = await v.page.locator('#rulepath-holder').screenshot();
      savePng('trace-rulepath-dnat', shot);
      const stats = await pixelStats(h.browser, shot);
      assert.ok(stats.variance > 100 && stats.distinct > 10, `the rule path is blank (${JSON.stringify(stats)})`);
      // Exports: the rule path as SVG; the Markdown carries every hop's rule path.
      await v.page.locator('#export-rulepath-svg').click();
      await v.page.locator('#export-markdown').click();
      const exports = (await v.posted()).filter(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export',
      );
      const svgOut = exports.find((m) => m.format === 'svg')!;
      assert.match(svgOut.content, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svgOut.content, /KUBE-SEP-/);
      assert.match(svgOut.name, /hop 2 rules\.svg$/);
      const md = exports.find((m) => m.format === 'markdown')!.content;
      assert.match(md, /Rule path at hop 2 \(node:node1 vetha1d4b674 in\):/);
      assert.match(
        md,
        /- PREROUTING nat: PREROUTING → KUBE-SERVICES → KUBE-SVC-\w+ \\\[not taken: KUBE-SEP-\w+ 50%\\\] → KUBE-SEP-\w+ \(branch 50%\): DNAT \(10\.244\.1\.10:40000 → 10\.96\.0\.10:80 ⇒ 10\.244\.1\.10:40000 → 10\.244\.1\.11:8080\)/,
      );
      assert.deepEqual(await v.violations(), []);
    });
  });

  test('rule path in kube-proxy nftables mode: one stage per base chain with its nft priority, the verdict-map jumps, the numgen branch with its probability and the one not taken', async () => {
    const g = goldenNftables('pod-to-service');
    await atMarkedRulePath(g, 'dnat', async (v, rp) => {
      // PREROUTING: kube-proxy's table has two base chains there, each a stage of its own, in priority order.
      const pre = rp.locator('.rp-stage[data-hook="PREROUTING"][data-table="ip kube-proxy"]');
      assert.deepEqual(await pre.evaluateAll((els) => els.map((e) => e.getAttribute('data-priority'))), [
        '-110',
        '-100',
      ]);
      assert.deepEqual((await pre.locator('.rp-priority').allTextContents()).map(oneLine), [
        'priority dstnat - 10',
        'priority dstnat',
      ]);
      // No iptables table names on an nft stage.
      assert.deepEqual(await pre.nth(1).locator('.rp-table').allTextContents(), ['ip kube-proxy']);
      const nat = pre.nth(1);
      const chains = await nat.locator('.rp-chain').evaluateAll((els) => els.map((e) => e.getAttribute('data-chain')));
      assert.deepEqual(chains.slice(0, 2), ['nat-prerouting', 'services']);
      assert.match(chains[2] ?? '', /^service-\w+-default\/web\/tcp\/http$/);
      assert.match(chains[3] ?? '', /^endpoint-\w+-default\/web\/tcp\/http__10\.244\.\d\.\d+\/8080$/);
      // The vmap lookup in `services` is a goto; numgen's branch carries its probability, the other is named.
      assert.equal(await nat.locator('.rp-chain.how-goto').count(), 2);
      assert.equal(await nat.locator('.rp-prob').first().textContent(), '50%');
      assert.match((await nat.locator('.rp-alt').allTextContents()).join(' '), /not taken \(50%\): endpoint-\w+-/);
      assert.equal(oneLine(await nat.locator('.rp-verdict.nat > text').textContent()), 'DNAT');
      savePng('trace-rulepath-nftables', await v.page.locator('#rulepath-holder').screenshot());
      await v.page.locator('#export-markdown').click();
      const md = (await v.posted()).find(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'markdown',
      )!.content;
      assert.match(
        md,
        /- PREROUTING ip kube-proxy \(priority dstnat - 10\): filter-prerouting-pre-dnat → firewall-check/,
      );
      assert.match(
        md,
        /- PREROUTING ip kube-proxy \(priority dstnat\): nat-prerouting → services → service-\S+ \\\[not taken: endpoint-\S+ 50%\\\] → endpoint-\S+ \(branch 50%\): DNAT/,
      );
      assert.deepEqual(await v.violations(), []);
    });
  });

  test('rule path of a netdev ingress drop: the stage is netdev INGRESS (priority filter), not PREROUTING', async () => {
    const g = golden('node-nftables-netdev-ingress');
    await atMarkedRulePath(g, 'drop', async (v, rp) => {
      const stage = rp.locator('.rp-stage[data-hook="INGRESS"][data-family="netdev"][data-table="netdev edge"]');
      assert.equal(await stage.count(), 1);
      assert.equal(oneLine(await stage.locator('.rp-hook').textContent()), 'netdev INGRESS');
      assert.equal(oneLine(await stage.locator('.rp-priority').textContent()), 'priority filter');
      assert.equal(await rp.locator('.rp-stage[data-hook="PREROUTING"]').count(), 0);
      assert.ok((await stage.locator('.rp-verdict.bad').count()) >= 1, 'no red DROP verdict');
      await v.page.locator('#export-markdown').click();
      const md = (await v.posted()).find(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'markdown',
      )!.content;
      assert.match(md, /- netdev INGRESS netdev edge \(priority filter\): eth0-in: DROP/);
      savePng('trace-rulepath-netdev-ingress', await v.page.locator('#rulepath-holder').screenshot());
    });
  });

  test('rule path of a bridge-family drop: a bridge FORWARD stage of its table at the bridge priority filter, shown red', async () => {
    const g = golden('node-nftables-bridge-forward');
    await atMarkedRulePath(g, 'drop', async (v, rp) => {
      const stage = rp.locator('.rp-stage[data-hook="FORWARD"][data-family="bridge"][data-table="bridge pods"]');
      assert.equal(await stage.count(), 1);
      assert.equal(oneLine(await stage.locator('.rp-hook').textContent()), 'bridge FORWARD');
      assert.equal(oneLine(await stage.locator('.rp-priority').textContent()), 'priority filter');
      assert.ok((await stage.locator('.rp-verdict.bad').count()) >= 1, 'no red DROP verdict');
      await v.page.locator('#export-markdown').click();
      const md = (await v.posted()).find(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'markdown',
      )!.content;
      assert.match(md, /- bridge FORWARD bridge pods \(priority filter\): forward: DROP/);
      // The bridge runs its own forward chain (priority filter, -200) before br_netfilter's IP FORWARD (-1): on the
      // bridge's lane after its decision, with its own box above it, never under a "br_netfilter → IP FORWARD" box
      // (which this frame, dropped first, never reached).
      const lane = rp.locator('.rp-bridge-lane');
      assert.deepEqual(
        await lane
          .locator('.rp-bridge-hook, .rp-bridge-decision, .rp-bridge-chain')
          .evaluateAll((els) =>
            els.map((e) =>
              e.classList.contains('rp-bridge-decision')
                ? 'decision'
                : e.classList.contains('rp-bridge-chain')
                  ? `${e.getAttribute('data-hook')} chain`
                  : e.getAttribute('data-hook'),
            ),
          ),
        ['PREROUTING', 'decision', 'FORWARD chain'],
      );
      assert.equal(await lane.locator('.rp-bridge-hook[data-hook="FORWARD"]').count(), 0);
      assert.equal(await lane.locator('.rp-brnf').count(), 1, 'br_netfilter ran only the IP PREROUTING');
      const box = (await lane.locator('.rp-bridge-chain rect').boundingBox())!;
      const below = (await stage.locator('rect.rp-box').boundingBox())!;
      assert.ok(box.y + box.height < below.y, 'the bridge chain box is above its stage');
      assert.ok(box.x <= below.x + 1 && box.x + box.width >= below.x + below.width - 1, 'and spans it');
      const decision = (await lane.locator('.rp-bridge-decision rect').boundingBox())!;
      assert.ok(decision.x + decision.width <= box.x, 'after the bridge decision');
      assert.match(oneLine(await lane.locator('.rp-bridge-chain').textContent()), /bridge FORWARD.*bridge pods/);
      // Drawn like the bridge's other hooks (a box of the lane, not a black hole).
      const fillOf = (e: unknown): string =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill;
      assert.equal(
        await lane.locator('.rp-bridge-chain rect').evaluate(fillOf),
        await lane.locator('.rp-bridge-hook rect').evaluate(fillOf),
      );
      assert.match(md, /PREROUTING → out of veth\w+ → FORWARD chain of bridge pods/);
      savePng('trace-rulepath-bridge-family', await v.page.locator('#rulepath-holder').screenshot());
    });
  });

  test('rule path: PREROUTING, the routing decision, FORWARD, POSTROUTING in order; a drop marked and shown red', async () => {
    const g = golden('nodeport-etp-cluster');
    const v = await openTrace(g);
    try {
      const i = g.expected.paths[0].hops.findIndex((x) =>
        x.steps.some((s) => s.kind === 'netfilter' && s.hook === 'FORWARD'),
      );
      assert.ok(i >= 0);
      await v.page.locator(`#hops tbody tr[data-hop="${i}"] td`).first().click();
      const order = await v.page
        .locator('#rulepath-holder svg .rp-stage, #rulepath-holder svg .rp-routing')
        .evaluateAll((els) =>
          els.map((e) => (e.classList.contains('rp-routing') ? 'routing' : e.getAttribute('data-hook'))),
        );
      const pre = order.indexOf('PREROUTING');
      assert.ok(
        pre >= 0 && order.indexOf('routing') > pre && order.indexOf('FORWARD') > order.indexOf('routing'),
        order.join(' '),
      );
      assert.ok(order.lastIndexOf('POSTROUTING') > order.indexOf('FORWARD'), order.join(' '));
    } finally {
      await v.close();
    }
    await atMarkedRulePath(golden('loadbalancer-source-ranges-denied'), 'drop', async (w, rp) => {
      assert.ok((await rp.locator('.rp-verdict.bad').count()) >= 1, 'no red DROP verdict');
      savePng('trace-rulepath-drop', await w.page.locator('#rulepath-holder').screenshot());
    });
  });

  test('rule path of a bridged frame: the bridge is a lane of its own (br_netfilter), its hooks in the kernel order above the IP hooks they run', async () => {
    const g = golden('pod-to-pod-same-node');
    const v = await openTrace(g);
    try {
      // Hop 2: the frame enters cni0 by the client's port and the bridge forwards it to web-1's.
      await v.page.locator('#hops tbody tr[data-hop="1"] td').first().click();
      const rp = v.page.locator('#rulepath-holder svg');
      const lane = rp.locator('.rp-bridge-lane');
      assert.equal(await lane.count(), 1, 'no bridge lane');
      assert.equal(await lane.getAttribute('data-bridge'), 'cni0');
      assert.match(
        oneLine(await lane.locator('.rp-lane-title').textContent()),
        /^bridge cni0, in by veth\w+ · br_netfilter/,
      );
      // The lane in the kernel's order: bridge PREROUTING, the bridge's decision (its forwarding database, not the
      // routing decision), bridge FORWARD, bridge POSTROUTING.
      const order = await lane
        .locator('.rp-bridge-hook, .rp-bridge-decision')
        .evaluateAll((els) =>
          els.map((e) => (e.classList.contains('rp-bridge-decision') ? 'decision' : e.getAttribute('data-hook'))),
        );
      assert.deepEqual(order, ['PREROUTING', 'decision', 'FORWARD', 'POSTROUTING']);
      const out = g.expected.paths[0].hops[2].device;
      assert.equal(await lane.locator('.rp-bridge-decision').getAttribute('data-out'), out);
      assert.match(oneLine(await lane.locator('.rp-bridge-decision').textContent()), new RegExp(`out of ${out}`));
      assert.equal(await rp.locator('.rp-routing').count(), 0, 'a bridged frame is not routed');
      // Each bridge hook is drawn above the IP hook's stages br_netfilter ran from it, and is visibly there.
      const stages = rp.locator('.rp-stage');
      assert.deepEqual(await stages.evaluateAll((els) => els.map((e) => e.getAttribute('data-hook'))), [
        'PREROUTING',
        'FORWARD',
        'POSTROUTING',
      ]);
      assert.deepEqual(await stages.evaluateAll((els) => els.map((e) => e.getAttribute('data-bridged'))), [
        'true',
        'true',
        'true',
      ]);
      for (const hook of ['PREROUTING', 'FORWARD', 'POSTROUTING']) {
        const above = (await lane.locator(`.rp-bridge-hook[data-hook="${hook}"] rect`).boundingBox())!;
        const below = (await rp.locator(`.rp-stage[data-hook="${hook}"] rect.rp-box`).first().boundingBox())!;
        assert.ok(above.width > 100 && above.height > 20, `${hook}: the bridge hook is not drawn`);
        assert.ok(above.y + above.height < below.y, `${hook}: the bridge hook is not above its IP stage`);
        assert.ok(
          above.x <= below.x + 1 && above.x + above.width >= below.x + below.width - 1,
          `${hook}: the bridge hook does not span its IP stage`,
        );
      }
      assert.equal(await lane.locator('.rp-brnf').count(), 3, 'a br_netfilter line down to each IP stage');
      const shot = await v.page.locator('#rulepath-holder').screenshot();
      savePng('trace-rulepath-bridged', shot);
      const stats = await pixelStats(h.browser, shot);
      assert.ok(stats.variance > 100 && stats.distinct > 10, `the rule path is blank (${JSON.stringify(stats)})`);
      await v.page.locator('#export-markdown').click();
      const md = (await v.posted()).find(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'markdown',
      )!.content;
      assert.match(
        md,
        new RegExp(
          `- bridge cni0 with br\\\\_netfilter \\(in by veth\\w+\\): PREROUTING → out of ${out} → FORWARD → POSTROUTING`,
        ),
      );
    } finally {
      await v.close();
    }
    // Pod to Service: the frame's PREROUTING at the port DNATs it; the bridge forwards it at the next hop.
    await atMarkedRulePath(golden('pod-to-service'), 'dnat', async (w, rp) => {
      const lane = rp.locator('.rp-bridge-lane');
      assert.deepEqual(
        await lane
          .locator('.rp-bridge-hook, .rp-bridge-decision')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-hook') ?? e.getAttribute('data-kind'))),
        ['PREROUTING', 'next-hop'],
      );
      await w.page.locator('#hop-next').click();
      assert.deepEqual(
        await lane
          .locator('.rp-bridge-hook, .rp-bridge-decision')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-hook') ?? e.getAttribute('data-kind'))),
        ['port', 'FORWARD', 'POSTROUTING'],
      );
      assert.match(oneLine(await lane.locator('.rp-bridge-decision').textContent()), /after DNAT/);
    });
    // A routed frame (a node receiving on eth0): the routing decision, no bridge lane.
    const routed = golden('nodeport-etp-cluster');
    const x = await openTrace(routed);
    try {
      const i = routed.expected.paths[0].hops.findIndex((hop) =>
        hop.steps.some((st) => st.kind === 'netfilter' && st.hook === 'FORWARD'),
      );
      await x.page.locator(`#hops tbody tr[data-hop="${i}"] td`).first().click();
      assert.equal(await x.page.locator('#rulepath-holder .rp-bridge-lane').count(), 0);
      assert.equal(await x.page.locator('#rulepath-holder .rp-routing').count(), 1);
    } finally {
      await x.close();
    }
  });

  test('rule path of a NetworkPolicy denial: the hop is marked POLICY, its rule path says which direction of which pod was denied, in red', async () => {
    const g = golden('policy-egress-denied');
    const i = g.expected.paths[0].hops.findIndex((hop) =>
      hop.steps.some((st) => st.kind === 'policy' && st.verdict === 'denied'),
    );
    assert.ok(i >= 0, 'the golden has a denied policy step');
    await atMarkedRulePath(g, 'policy', async (v, rp) => {
      assert.equal(await v.page.locator('#diagram .mark.mark-policy').getAttribute('data-mark'), String(i));
      assert.equal(await v.page.locator('#diagram .hop.current').getAttribute('data-hop'), String(i));
      const denied = rp.locator('.rp-policy.bad');
      assert.equal(await denied.count(), 1);
      assert.match(oneLine(await denied.textContent()), /^egress of shop\/web-1: denied/);
      // The drawing itself (its box keeps the height of the walk's tallest rule path).
      const shot = await v.page.locator('#rulepath-holder svg').screenshot();
      savePng('trace-rulepath-policy', shot);
      const stats = await pixelStats(h.browser, shot);
      assert.ok(stats.variance > 100 && stats.distinct > 10, `the rule path is blank (${JSON.stringify(stats)})`);
      assert.deepEqual(await v.violations(), []);
    });
  });

  test('rule path of the node’s own connection to its pod: nat OUTPUT, then the NetworkPolicy verdict where it is judged, then filter OUTPUT', async () => {
    const g = golden('policy-node-traffic-judged');
    const v = await openTrace(g);
    try {
      const i = g.expected.paths[0].hops.findIndex((hop) => hop.steps.some((st) => st.kind === 'policy'));
      assert.ok(i >= 0);
      await v.page.locator(`#hops tbody tr[data-hop="${i}"] td`).first().click();
      const rp = v.page.locator('#rulepath-holder svg');
      const order = await rp
        .locator('.rp-stage, .rp-policy-point')
        .evaluateAll((els) =>
          els.map((e) =>
            e.classList.contains('rp-policy-point')
              ? 'policy'
              : `${e.getAttribute('data-table')} ${e.getAttribute('data-hook')}`,
          ),
        );
      assert.deepEqual(order.slice(0, 3), ['nat OUTPUT', 'policy', 'filter OUTPUT'], order.join(', '));
      const point = rp.locator('.rp-policy-point');
      assert.match(oneLine(await point.locator('.rp-policy.ok').textContent()), /^ingress of shop\/web-1: allowed/);
      assert.match(
        oneLine(await point.locator('.rp-policy-verdict title').textContent()),
        /^ingress of shop\/web-1: allowed by shop\/web/,
      );
      const [nat, pol, filter] = await Promise.all([
        rp.locator('.rp-stage[data-table="nat"][data-hook="OUTPUT"] rect.rp-box').boundingBox(),
        point.locator('rect.rp-box').boundingBox(),
        rp.locator('.rp-stage[data-table="filter"][data-hook="OUTPUT"] rect.rp-box').boundingBox(),
      ]);
      assert.ok(nat!.x + nat!.width < pol!.x && pol!.x + pol!.width < filter!.x, 'drawn left to right in that order');
      assert.equal(await rp.locator('.rp-policy').count(), 1, 'the verdict once, where it was judged');
      await v.page.locator('#export-markdown').click();
      const md = (await v.posted()).find(
        (m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'markdown',
      )!.content;
      const lines = md.split('\n');
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      assert.ok(at(/^- OUTPUT nat/) < at(/^- NetworkPolicy ingress of shop\/web-1/), md);
      assert.ok(at(/^- NetworkPolicy ingress of shop\/web-1/) < at(/^- OUTPUT filter/), md);
      savePng('trace-rulepath-policy-output', await v.page.locator('#rulepath-holder').screenshot());
    } finally {
      await v.close();
    }
  });

  test('controls ask the host to re-trace; exports go to the host as SVG and Markdown', async () => {
    const g = golden('pod-to-service');
    const v = await openTrace(g);
    try {
      const port = v.page.locator('#port');
      await port.click();
      await v.page.keyboard.press('Control+a');
      await v.page.keyboard.type('8080');
      await v.page.keyboard.press('Enter');
      await v.page.locator('#reply').click();
      await v.page.locator('#export-svg').click();
      await v.page.locator('#export-markdown').click();
      const posted = await v.posted();
      const retraces = posted.filter((m) => m.type === 'retrace');
      assert.deepEqual(retraces[0], {
        type: 'retrace',
        request: { from: 'pod/client', to: 'svc/web:8080', proto: 'tcp', reply: true },
      });
      assert.equal(retraces[1]?.type === 'retrace' && retraces[1].request.reply, false);
      const exports = posted.filter((m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export');
      const svg = exports.find((m) => m.format === 'svg')!;
      assert.match(svg.content, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg.content, /cni0/);
      assert.doesNotMatch(svg.content, /var\(--vscode/, 'colours are inlined for use outside VS Code');
      assert.match(svg.name, /\.svg$/);
      const md = exports.find((m) => m.format === 'markdown')!;
      assert.match(md.content, /\| # \| Namespace \| Device \| Dir \| Packet \| TTL \| Step \|/);
      assert.match(
        md.content,
        /\| 2 \| node:node1 \| vetha1d4b674 \| in \| .* \| DNAT 10\.96\.0\.10:80 → 10\.244\.1\.11:8080/,
      );
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('keeps its path and hop after a reload (state through setState), and drops malformed host messages', async () => {
    const g = golden('pod-to-service');
    const v = await openTrace(g);
    try {
      await v.page.locator('vscode-radio[name=path]').nth(1).click();
      await v.page.locator('#disposition', { hasText: 'default/web-2' }).waitFor();
      await v.page.locator('#hop-next').click();
      await v.page.locator('#hop-next').click();
      await v.page.reload();
      await v.page.waitForFunction('window.__posted && window.__posted.some((m) => m.type === "ready")');
      await v.post(traceMessage(g));
      await v.page.locator('#disposition', { hasText: 'default/web-2' }).waitFor();
      assert.equal(await v.page.locator('#diagram .hop.current').getAttribute('data-hop'), '2');
      await v.post({ type: 'trace', state: g.state, data: { result: 'nope' } });
      await v.post({ type: 'error', message: 42 });
      await v.page.locator('#status', { hasText: 'malformed' }).waitFor();
      assert.equal(await v.page.locator('#hops tbody tr').count(), g.expected.paths[1].hops.length);
    } finally {
      await v.close();
    }
  });

  test('draws a routed plug-in without a bridge: ptp host veths and Calico proxy ARP, the bridge plug-in with one', async () => {
    const bridged = await openTrace(golden('pod-to-pod-same-node'));
    try {
      assert.equal(await bridged.page.locator('#diagram rect.bridge').count(), 1, 'the bridge plug-in draws cni0');
    } finally {
      await bridged.close();
    }
    const g = golden('ptp-pod-to-pod-same-node');
    const v = await openTrace(g);
    try {
      assert.equal(await v.page.locator('#diagram rect.bridge').count(), 0, 'no bridge on a ptp node');
      assert.equal(await v.page.locator('#diagram text', { hasText: /^bridge / }).count(), 0);
      // Both pods' host veths are drawn, the path runs veth -> node routing -> veth: a badge per hop.
      const hops = g.expected.paths[0].hops;
      assert.deepEqual(
        hops.map((h) => `${h.netns} ${h.device}`),
        [
          'pod:default/client eth0',
          `node:node1 ${hops[1].device}`,
          `node:node1 ${hops[2].device}`,
          'pod:default/web-1 eth0',
        ],
      );
      assert.match(hops[1].device, /^veth[0-9a-f]{8}$/);
      assert.equal(await v.page.locator('#diagram .hop').count(), hops.length);
      const table = oneLine(await v.page.locator('#hops').innerText());
      assert.match(table, /10\.244\.1\.0\/24 via 10\.244\.1\.1 dev eth0/);
      assert.match(table, /scope host/);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
    const c = await openTrace(golden('calico-pod-to-pod-cross-node'));
    try {
      assert.equal(await c.page.locator('#diagram rect.bridge').count(), 0, 'no bridge on a Calico node');
      // The neighbour step is in the hop's list of steps (its route is what mattered).
      assert.match(oneLine(await c.page.locator('#hops').textContent()), /169\.254\.1\.1[\s\S]*proxy ARP/);
    } finally {
      await c.close();
    }
  });

  test('renders hostile names as text', async () => {
    const g = golden('pod-to-service');
    const hostile = JSON.parse(
      JSON.stringify(traceMessage(g))
        .replaceAll('default/client', HOSTILE.replaceAll('"', '\\"'))
        .replaceAll('pod/client', `pod/${HOSTILE}`),
    ) as ReturnType<typeof traceMessage>;
    const v = await h.open(g.state);
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await v.post(hostile);
      await v.page.locator('#hops tbody tr').first().waitFor();
      assert.equal(await v.page.locator('img').count(), 0);
      assert.ok((await v.page.locator('#hops').innerText()).includes(`pod:${HOSTILE}`));
      assert.ok((await v.page.locator('#view-title').innerText()).includes(HOSTILE));
      assert.ok((await v.page.locator('#diagram svg').textContent())!.includes(HOSTILE.slice(0, 10)));
      assert.deepEqual(dialogs, []);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('draws and describes a trace whose steps have no detail sentence (the view reads typed fields only)', async () => {
    // Pods the host does not describe are placed by the trace's veth steps; every sentence is blanked.
    const blank = (g: Golden): Golden => {
      const hops = (hs: readonly Hop[]) =>
        hs.map((x) => ({ ...x, steps: x.steps.map((st) => ({ ...st, detail: '' })) }));
      const result: TraceResult = {
        ...g.expected,
        paths: g.expected.paths.map((p) => ({
          ...p,
          hops: hops(p.hops),
          ...(p.reply ? { reply: { ...p.reply, hops: hops(p.reply.hops) } } : {}),
        })),
      };
      return { ...g, data: { ...g.data, result, places: g.data.places.filter((p) => p.kind !== 'pod') } };
    };
    const boxes = (v: View) =>
      v.page
        .locator('#diagram g.box')
        .evaluateAll((gs) =>
          gs.map(
            (g) =>
              `${g.getAttribute('data-netns')} ${g.querySelector('rect')?.getAttribute('x')},${g.querySelector('rect')?.getAttribute('y')}`,
          ),
        );
    for (const name of ['pod-to-pod-cross-node', 'loadbalancer-source-ranges-denied', 'hairpin-off']) {
      const g = golden(name);
      const full = await openTrace(g);
      const want = { boxes: await boxes(full), veths: await full.page.locator('#diagram line.veth').count() };
      await full.close();
      const v = await openTrace(blank(g));
      try {
        assert.deepEqual(
          { boxes: await boxes(v), veths: await v.page.locator('#diagram line.veth').count() },
          want,
          `${name}: each pod drawn inside its node, joined by its veth pair`,
        );
        const cells = await v.page.locator('#hops tbody tr td .step').allInnerTexts();
        assert.equal(cells.length, g.expected.paths[0].hops.length);
        for (const c of cells) assert.ok(c.trim().length > 3, `${name}: every hop says what happened (${c})`);
        if (g.expected.paths[0].disposition !== 'delivered') {
          const said = await v.page.locator('#disposition').innerText();
          assert.match(
            said,
            new RegExp(`\\((dropped|rejected) in \\S+ .*\\(${g.expected.paths[0].reason}\\)\\)`),
            said,
          );
        }
      } finally {
        await v.close();
      }
    }
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as const) {
    test(`screenshots in ${theme}: the diagram is drawn`, async () => {
      for (const name of ['pod-to-service', 'nodeport-etp-cluster']) {
        const g = golden(name);
        const v = await openTrace(g, theme);
        try {
          await v.page.locator('#hop-next').click();
          await v.page.locator('#hop-next').click();
          assert.ok((await svgCount(v)) > 60, 'a non-trivial diagram');
          const full = await v.page.screenshot({ fullPage: true });
          savePng(`trace-${name}-${theme}`, full);
          const diagram = await v.page.locator('#diagram').screenshot();
          savePng(`trace-${name}-${theme}-diagram`, diagram);
          const stats = await pixelStats(h.browser, diagram);
          assert.ok(
            stats.variance > 100 && stats.distinct > 20,
            `the diagram is not an empty panel (${JSON.stringify(stats)})`,
          );
          assert.deepEqual(await v.violations(), []);
        } finally {
          await v.close();
        }
      }
    });
  }
});
