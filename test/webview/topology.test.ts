/** The topology view in real headless Chromium: the elkjs graph, reveal, context actions, filters, scale, themes. */
import assert from 'node:assert/strict';
import type { HostMessage, TopologySummary, WebviewMessage } from '../../src/protocol/messages';
import { topologyMessage, topologyMessageOf, topologySummary } from './fixtures';
import { pixelStats, savePng, startHarness, until, type Harness, type Theme, type View } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';
const STATE = { view: 'topology', file: 'file:///work/topology.yaml' } as const;

/** A synthetic cluster: `nodes` nodes with `perNode` pods each in a few namespaces, one Service per 30 pods. */
function bigCluster(nodes: number, perNode: number): HostMessage {
  const span = (i: number) => ({ file: '/work/big.yaml', start: i, end: i + 1 });
  const t: TopologySummary = {
    name: 'big-cluster',
    nodes: Array.from({ length: nodes }, (_, n) => ({
      name: `node-${n}`,
      addresses: [`eth0 10.0.${n >> 8}.${n & 255}/16`],
      interfaces: [{ name: 'eth0', network: 'lan', addresses: [`10.0.${n >> 8}.${n & 255}/16`] }],
      podCIDRs: [`10.244.${n}.0/24`],
      bridge: `cni0 10.244.${n}.1/24`,
      bridgeName: 'cni0',
      bridgeAddresses: [`10.244.${n}.1/24`],
      span: span(n),
    })),
    pods: Array.from({ length: nodes * perNode }, (_, i) => {
      const n = Math.floor(i / perNode);
      const ns = ['default', 'shop', 'payments'][i % 3];
      return {
        id: `${ns}/app-${i}`,
        namespace: ns,
        node: `node-${n}`,
        ips: [`10.244.${n}.${(i % perNode) + 10}`],
        veth: `veth${i.toString(16).padStart(8, '0')}`,
        hostNetwork: false,
        labels: { app: `app-${i % 30}` },
        span: span(1000 + i),
      };
    }),
    services: Array.from({ length: Math.ceil((nodes * perNode) / 30) }, (_, s) => ({
      id: `default/svc-${s}`,
      namespace: 'default',
      type: 'ClusterIP',
      clusterIPs: [`10.96.${s >> 8}.${s & 255}`],
      endpointPods: Array.from(
        { length: 3 },
        (_, k) =>
          `${['default', 'shop', 'payments'][(s * 30 + k * 7) % 3]}/app-${(s * 30 + k * 7) % (nodes * perNode)}`,
      ),
      ports: ['http 80/TCP'],
      span: span(100000 + s),
    })),
    externals: [],
    networks: [{ name: 'lan', cidr: '10.0.0.0/16' }],
    diagnostics: 0,
  };
  return topologyMessageOf(t, STATE.file);
}

/**
 * What a person sees in the graph panel: not a blank canvas (enough of its pixels are not the background),
 * the whole graph inside the panel (fitted), and the titles at a size one can read (12px text scaled by at
 * least `minScale`).
 */
async function assertDrawnAndReadable(v: View, name: string, minScale = 0.5): Promise<void> {
  const holder = v.page.locator('#graph-holder');
  const png = await holder.screenshot();
  savePng(name, png);
  const ink = await inkOf(v, png);
  assert.ok(ink > 0.01, `${name}: the graph panel is nearly blank (${(ink * 100).toFixed(1)}% of its pixels drawn)`);
  const box = (await holder.boundingBox())!;
  const graph = await v.page.locator('#viewport').evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
  assert.ok(
    graph.x >= box.x - 1 &&
      graph.y >= box.y - 1 &&
      graph.x + graph.width <= box.x + box.width + 1 &&
      graph.y + graph.height <= box.y + box.height + 1,
    `${name}: the graph is not fitted in its panel: ${JSON.stringify({ graph, box })}`,
  );
  const scale = (await v.page
    .locator('#viewport')
    .evaluate((e) => (e as unknown as { getCTM(): { a: number } }).getCTM().a)) as number;
  assert.ok(scale >= minScale, `${name}: drawn at ${scale.toFixed(2)}×, its 12px titles are unreadable`);
}

/**
 * The layout ran in a Web Worker (ELK's worker script from a blob: URL, which the CSP allows and nothing else), and
 * the drawn graph came back through its messages: the page's own thread never ran ELK.
 */
async function assertLaidOutInWorker(v: View): Promise<void> {
  const workers = (await v.page.evaluate('window.__workers')) as { scheme: string; messages: number }[];
  assert.ok(workers.length >= 1, 'no Web Worker was started for the layout');
  assert.ok(
    workers.every((w) => w.scheme === 'blob'),
    `workers only from blob: URLs: ${JSON.stringify(workers)}`,
  );
  assert.ok(
    workers.some((w) => w.messages >= 2),
    `the worker answered (registration and the layout): ${JSON.stringify(workers)}`,
  );
}

/** The share of the panel's pixels that differ clearly from its most common colour (the background). */
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

suite('topology view', () => {
  let h: Harness;
  suiteSetup(async () => {
    h = await startHarness();
  });
  suiteTeardown(async () => {
    await h?.close();
  });

  async function openTopology(message: HostMessage, theme: Theme = 'dark'): Promise<View> {
    const v = await h.open(STATE, theme);
    await v.post(message);
    await v.page.locator('#graph-holder[data-ready]').waitFor();
    return v;
  }

  test('lays out nodes with their pods, bridge and veths, the underlay, Services and their endpoints; click reveals; context action traces', async () => {
    const t = topologySummary('pod-to-service');
    const message = topologyMessageOf(t);
    const v = await openTopology(message);
    try {
      assert.equal(await v.page.locator('#view-title').innerText(), t.name);
      // Counted in words a person reads: singular for one, and no collapsed "rest" when every pod is drawn.
      assert.equal(
        await v.page.locator('#summary').innerText(),
        '2 nodes, 3 pods, 1 Service, 1 external, 0 diagnostics',
      );
      assert.match(await v.page.locator('#graph-status').innerText(), /^all 3 pods drawn \(laid out in \d+ ms\)$/);
      assert.doesNotMatch(await v.page.locator('#graph-status').innerText(), /collapsed/);
      assert.equal(await v.page.locator('#graph .el.node').count(), t.nodes.length);
      assert.equal(await v.page.locator('#graph .el.pod').count(), t.pods.length);
      assert.equal(await v.page.locator('#graph .el.bridge').count(), t.nodes.length);
      assert.equal(await v.page.locator('#graph .el.service').count(), t.services.length);
      assert.ok((await v.page.locator('#graph .edge.veth').count()) >= t.pods.length);
      assert.ok((await v.page.locator('#graph .edge.service').count()) >= 1);
      assert.ok((await v.page.locator('#graph .edge.underlay').count()) >= t.nodes.length);
      assert.ok(
        (await v.page.locator('#graph .edge-label', { hasText: '192.168.56.11/24' }).count()) >= 1,
        'addresses on the links',
      );
      const pod = t.pods.find((p) => p.id === 'default/web-1')!;
      await v.page.locator('#graph .el.pod[data-id="pod:default/web-1"] > .shape').click();
      await v.page.locator('#graph .el.pod[data-id="pod:default/web-1"] > .shape').click({ button: 'right' });
      await v.page.locator('#menu button', { hasText: 'Trace from' }).click();
      await v.page.locator('#graph .el.service > .shape').first().focus();
      await v.page.keyboard.press('Shift+F10');
      await v.page.keyboard.press('Enter');
      const posted = await v.posted();
      assert.deepEqual(
        posted.find((m) => m.type === 'reveal'),
        { type: 'reveal', ...pod.span },
      );
      const traces = posted.filter((m): m is Extract<WebviewMessage, { type: 'traceFrom' }> => m.type === 'traceFrom');
      assert.deepEqual(traces[0], { type: 'traceFrom', from: 'pod/default/web-1' });
      assert.match(traces[1]?.to ?? '', /^svc\//);
      await assertLaidOutInWorker(v);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('draws a routed plug-in node without a bridge (kindnet, Calico)', async () => {
    for (const name of ['ptp-pod-to-pod-same-node', 'calico-pod-to-pod-cross-node']) {
      const t = topologySummary(name);
      const message = topologyMessageOf(t);
      const v = await openTopology(message);
      try {
        assert.equal(await v.page.locator('#graph .el.bridge').count(), 0, `${name}: no bridge`);
        assert.equal(await v.page.locator('#graph .el.routes').count(), t.nodes.length, `${name}: routed per pod`);
        assert.match(
          (await v.page.locator('#graph .el.routes').first().textContent()) ?? '',
          /(kindnet|calico): no bridge, a route per pod/,
        );
        assert.ok((await v.page.locator('#graph .edge.veth').count()) >= t.pods.length, `${name}: the veths`);
        assert.deepEqual(await v.violations(), []);
      } finally {
        await v.close();
      }
    }
  });

  test('draws what each plug-in gives a node: a bridge, routes per pod, and the VTEP of an encapsulating one', async () => {
    // Per plug-in: the golden case, the element that holds the pods' veths, and the tunnel devices (if any; a
    // dual-stack overlay has a second one for IPv6).
    const cases: { name: string; holds: string; holder: RegExp; vtep: RegExp | undefined; vtep6?: RegExp }[] = [
      { name: 'pod-to-pod-cross-node', holds: 'bridge', holder: /bridge cni0/, vtep: undefined },
      { name: 'ptp-pod-to-pod-same-node', holds: 'routes', holder: /kindnet: no bridge/, vtep: undefined },
      { name: 'calico-pod-to-pod-cross-node', holds: 'routes', holder: /calico: no bridge/, vtep: undefined },
      { name: 'flannel-host-gw-pod-to-pod-cross-node', holds: 'bridge', holder: /bridge cni0/, vtep: undefined },
      {
        name: 'flannel-vxlan-pod-to-pod-cross-node',
        holds: 'bridge',
        holder: /bridge cni0/,
        vtep: /VTEP flannel\.1.*VNI 1 · UDP 8472 · 10\.244\.1\.0\/32/,
      },
      {
        name: 'calico-vxlan-cross-subnet',
        holds: 'routes',
        holder: /calico: no bridge/,
        vtep: /VTEP vxlan\.calico.*VNI 4096 · UDP 4789 · 10\.244\.1\.0\/32/,
      },
      {
        name: 'flannel-vxlan-ipv6-pod-to-pod-cross-node',
        holds: 'bridge',
        holder: /bridge cni0/,
        vtep: /VTEP flannel\.1.*VNI 1 · UDP 8472 · 10\.244\.1\.0\/32/,
        vtep6: /VTEP flannel-v6\.1.*VNI 1 · UDP 8472 · fd00:10:244:1::\/128/,
      },
      {
        name: 'calico-vxlan-ipv6-pod-to-pod-cross-node',
        holds: 'routes',
        holder: /calico: no bridge/,
        vtep: /VTEP vxlan\.calico.*VNI 4096 · UDP 4789 · 10\.244\.1\.0\/32/,
        vtep6: /VTEP vxlan-v6\.calico.*VNI 4096 · UDP 4789 · fd00:10:244:1::\/128/,
      },
      {
        name: 'calico-ipip-pod-to-pod-cross-node',
        holds: 'routes',
        holder: /calico: no bridge/,
        vtep: /IPIP tunnel tunl0.*IP protocol 4 · 10\.244\.1\.0\/32/,
      },
    ];
    for (const c of cases) {
      const t = topologySummary(c.name);
      const message = topologyMessageOf(t);
      const v = await openTopology(message);
      try {
        const other = c.holds === 'bridge' ? 'routes' : 'bridge';
        assert.equal(await v.page.locator(`#graph .el.${c.holds}`).count(), t.nodes.length, `${c.name}: ${c.holds}`);
        assert.equal(await v.page.locator(`#graph .el.${other}`).count(), 0, `${c.name}: no ${other}`);
        assert.match((await v.page.locator(`#graph .el.${c.holds}`).first().textContent()) ?? '', c.holder);
        const vteps = v.page.locator('#graph .el.vtep');
        if (!c.vtep) assert.equal(await vteps.count(), 0, `${c.name}: no tunnel device`);
        else {
          const perNode = c.vtep6 ? 2 : 1;
          assert.equal(
            await vteps.count(),
            t.nodes.length * perNode,
            `${c.name}: ${perNode} tunnel device(s) per node`,
          );
          for (const [id, want] of [
            ['vtep:node1', c.vtep],
            ['vtep6:node1', c.vtep6],
          ] as const) {
            if (!want) continue;
            const text = (await v.page.locator(`#graph .el.vtep[data-id="${id}"]`).textContent()) ?? '';
            assert.match(text, want);
            assert.ok(!text.includes('…'), `${c.name}: the VTEP's label is not cut short: ${text}`);
          }
          const box = await vteps.first().boundingBox();
          assert.ok(box && box.width > 40 && box.height > 20, `${c.name}: the VTEP is drawn`);
        }
        assert.deepEqual(await v.violations(), []);
      } finally {
        await v.close();
      }
    }
  });

  test('collapses a node, filters by namespace and label, searches', async () => {
    const v = await openTopology(topologyMessage('pod-to-service'));
    try {
      const pods = await v.page.locator('#graph .el.pod').count();
      await v.page.locator('#graph [data-toggle="node:node1"]').click();
      await v.page.locator('#graph .el.node[data-id="node:node1"] .el.pod').first().waitFor({ state: 'detached' });
      assert.ok((await v.page.locator('#graph .el.pod').count()) < pods);
      await v.page.locator('#graph [data-toggle="node:node1"]').press('Enter');
      await v.page.locator('#graph .el.node[data-id="node:node1"] .el.pod').first().waitFor();
      await v.page.locator('#filter-label').click();
      await v.page.keyboard.type('app=web');
      await v.page.keyboard.press('Enter');
      await v.page.locator('#graph-status', { hasText: 'pods match' }).waitFor();
      await v.page.waitForFunction('document.querySelectorAll("#graph .el.pod").length === 2');
      await v.page.locator('#search').click();
      await v.page.keyboard.type('10.244.2.10');
      await v.page.keyboard.press('Enter');
      await v.page.locator('#graph .el.match[data-id="pod:default/web-2"]').waitFor();
    } finally {
      await v.close();
    }
  });

  test('renders hostile names as text', async () => {
    const t = topologySummary('pod-to-service');
    const message = topologyMessageOf({
      ...t,
      name: HOSTILE,
      pods: t.pods.map((p, i) => (i === 0 ? { ...p, id: `default/${HOSTILE}` } : p)),
    });
    const v = await h.open(STATE);
    const dialogs: string[] = [];
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await v.post(message);
      await v.page.locator('#graph-holder[data-ready]').waitFor();
      assert.equal(await v.page.locator('img').count(), 0);
      assert.equal(await v.page.locator('#view-title').innerText(), HOSTILE);
      assert.ok((await v.page.locator('#graph').textContent())!.includes('<img src=x'));
      assert.deepEqual(dialogs, []);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('the last of the host messages that came together is what the view shows (the page is drawn a task later)', async () => {
    const v = await h.open(STATE);
    try {
      // Posted in one go, before the page can run a task in between: the topology's page is drawn in the next task,
      // and must not be drawn over the error that came after it.
      const first = topologyMessage('pod-to-service');
      const second = topologyMessageOf({ ...topologySummary('pod-to-service'), name: 'the second topology' });
      const error: HostMessage = { type: 'error', message: 'NetPath could not analyse topology.yaml' };
      const postAll = (messages: readonly HostMessage[]) =>
        v.page.evaluate((ms) => {
          for (const m of ms)
            (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(m, '*');
        }, messages as unknown[]);
      await postAll([first, error]);
      await v.page.locator('.error[role="alert"], #graph-holder[data-ready]').first().waitFor();
      // Long enough for a deferred page and its graph to have been drawn, were they still coming.
      await v.page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
      assert.equal(await v.page.locator('#graph-holder').count(), 0, 'the topology was drawn over the later error');
      assert.equal(await v.page.locator('#view-title').innerText(), 'Topology');
      assert.match(await v.page.locator('.error[role="alert"]').innerText(), /could not analyse topology\.yaml/);

      // Two topologies together: the second is drawn.
      await postAll([first, second]);
      await v.page.locator('#graph-holder[data-ready]').waitFor();
      assert.equal(await v.page.locator('#view-title').innerText(), 'the second topology');
    } finally {
      await v.close();
    }
  });

  test('a 100-node, 3,000-pod cluster opens fitted, in readable collapsed groups, in order, and stays responsive', async () => {
    const v = await h.open(STATE);
    try {
      // No timed assertions: how fast this opens is the bench's business (bench/topology-view.ts).
      await v.post(bigCluster(100, 30));
      await v.page.locator('#graph-holder[data-ready]').waitFor({ timeout: 20_000 });
      // Six groups of at most 17 nodes, six of Services; no node or pod drawn alone until opened.
      assert.equal(await v.page.locator('#graph .el.nodes').count(), 6);
      assert.equal(await v.page.locator('#graph .el.services').count(), 6);
      assert.equal(await v.page.locator('#graph .el.node').count(), 0);
      assert.equal(await v.page.locator('#graph .el.pod').count(), 0, 'opens collapsed');
      assert.match(
        await v.page.locator('#summary').innerText(),
        /^100 nodes, 3,000 pods, 100 Services, 0 externals, 0 diagnostics$/,
      );
      assert.match(
        await v.page.locator('#graph-status').innerText(),
        /3000 of 3,000 pods match; 0 drawn, 3000 in collapsed groups/,
      );
      // In the topology's order, left to right.
      const titles = await v.page
        .locator('#graph .el.nodes > .shape > text.title')
        .evaluateAll((els) => els.map((e) => e.textContent));
      assert.deepEqual(titles.slice(0, 2), ['nodes node-0 … node-16', 'nodes node-17 … node-33']);
      const xs = await v.page
        .locator('#graph .el.nodes > .shape > rect')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().x));
      assert.deepEqual(
        xs,
        [...xs].sort((a, b) => a - b),
        'the groups are not in the topology order',
      );
      await assertDrawnAndReadable(v, 'topology-big-cluster-opened');

      await v.page.locator('#graph [data-toggle="nodes:0"]').click();
      await v.page.locator('#graph [data-toggle="node:node-7"]').click();
      await v.page.locator('#graph .el.node[data-id="node:node-7"] .el.pod').first().waitFor({ timeout: 20_000 });
      assert.equal(await v.page.locator('#graph .el.node').count(), 17);
      assert.equal(await v.page.locator('#graph .el.pod').count(), 30);
      // Pan and zoom are transforms, not re-layouts: the viewport's transform changes and the drawn elements are the
      // same ones (a mark put on a pod before zooming is still there after; a redraw would make new elements).
      const viewport = () => v.page.locator('#viewport').evaluate((e) => e.getAttribute('transform'));
      const before = await viewport();
      await v.page
        .locator('#graph .el.pod')
        .first()
        .evaluate((e) => e.setAttribute('data-test-mark', '1'));
      for (let i = 0; i < 10; i++) await v.page.locator('#zoom-in').click();
      assert.notEqual(await viewport(), before, 'zooming in did not change the view');
      assert.equal(await v.page.locator('#graph .el.pod[data-test-mark]').count(), 1, 'zooming redrew the graph');
      assert.equal(await v.page.locator('#graph .el.pod').count(), 30);
      savePng('topology-big-cluster-dark', await v.page.screenshot());
    } finally {
      await v.close();
    }
  });

  test('a 500-node, 15,000-pod cluster opens collapsed with counts; groups open into groups, a node into its pods; a search opens its way to a pod', async function () {
    // Generous waits, no timed assertions: layouts of this size take seconds on a loaded machine (in the worker).
    this.timeout(240_000);
    const wait = { timeout: 60_000 };
    const v = await h.open(STATE);
    try {
      await v.post(bigCluster(500, 30));
      await v.page.locator('#graph-holder[data-ready]').waitFor(wait);
      assert.match(
        await v.page.locator('#summary').innerText(),
        /^500 nodes, 15,000 pods, 500 Services, 0 externals, 0 diagnostics$/,
      );
      assert.equal(await v.page.locator('#graph .el.nodes').count(), 6);
      assert.equal(await v.page.locator('#graph .el.services').count(), 6);
      assert.equal(await v.page.locator('#graph .el.node').count(), 0);
      assert.equal(await v.page.locator('#graph .el.pod').count(), 0, 'opens collapsed');
      assert.match(
        (await v.page.locator('#graph .el.nodes[data-id="nodes:0"]').textContent()) ?? '',
        /nodes node-0 … node-83.*84 nodes · 2,520 pods/,
      );
      assert.match(
        await v.page.locator('#graph-status').innerText(),
        /15000 of 15,000 pods match; 0 drawn, 15000 in collapsed groups/,
      );
      await assertDrawnAndReadable(v, 'topology-15000-pods-opened');
      // Drawing every pod at once is refused with the reason, not minutes of layout.
      assert.equal(await v.page.locator('#expand-all').getAttribute('disabled'), '');
      assert.match((await v.page.locator('#expand-all').getAttribute('title')) ?? '', /15,000 pods are too many/);

      // A group of 84 nodes opens into six groups of 14, one of those into its nodes, a node into its pods.
      await v.page.locator('#graph [data-toggle="nodes:0"]').click();
      await v.page.locator('#graph .el.nodes[data-id="nodes:0.0"]').waitFor(wait);
      assert.equal(await v.page.locator('#graph .el.nodes[data-id^="nodes:0."]').count(), 6);
      assert.equal(await v.page.locator('#graph .el.node').count(), 0);
      await v.page.locator('#graph [data-toggle="nodes:0.0"]').click();
      await v.page.locator('#graph .el.node[data-id="node:node-3"]').waitFor(wait);
      assert.equal(await v.page.locator('#graph .el.node').count(), 14);
      await v.page.locator('#graph [data-toggle="node:node-3"]').click();
      await v.page.locator('#graph .el.node[data-id="node:node-3"] .el.pod').first().waitFor(wait);
      assert.equal(await v.page.locator('#graph .el.pod').count(), 30);
      assert.equal(await v.page.locator('#graph .el.node[data-id="node:node-3"] .el.pod').count(), 30);
      savePng('topology-15000-pods-node-open', await v.page.screenshot());

      // A pod on the last node: the search opens its group, the group inside, and its node, and marks it.
      await v.page.locator('#search').click();
      await v.page.keyboard.type('app-14999');
      await v.page.keyboard.press('Enter');
      await v.page.locator('#graph .el.pod.match[data-id="pod:payments/app-14999"]').waitFor(wait);
      assert.ok(await v.page.locator('#graph .el.node[data-id="node:node-499"]').count());
      assert.match(await v.page.locator('#graph-status').innerText(), /1 search match/);
      await assertLaidOutInWorker(v);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('while a big layout runs the view pans and zooms, and a newer layout replaces it (the worker is stopped)', async function () {
    this.timeout(120_000);
    const v = await h.open(STATE);
    try {
      await v.post(bigCluster(100, 30));
      await v.page.locator('#graph-holder[data-ready]').waitFor({ timeout: 60_000 });
      const ready = await v.page.locator('#graph-holder').getAttribute('data-ready');
      // Every one of the 3,000 pods: a layout of many seconds, in the worker.
      await v.page.locator('#expand-all').click();
      await v.page.locator('#graph-status[aria-busy="true"]').waitFor();
      const before = await v.page.locator('#viewport').getAttribute('transform');
      await v.page.locator('#zoom-in').click();
      // Read together: the zoom was applied while the layout was still running (a page thread running ELK could
      // only have handled the click after the layout ended).
      const during = (await v.page.evaluate(
        `({ busy: document.getElementById('graph-status').getAttribute('aria-busy'), transform: document.getElementById('viewport').getAttribute('transform') })`,
      )) as { busy: string | null; transform: string | null };
      assert.equal(during.busy, 'true', 'the layout of 3,000 pods was still running');
      assert.notEqual(during.transform, before, 'zoomed while the layout ran');
      const workers = ((await v.page.evaluate('window.__workers')) as unknown[]).length;
      // Collapse all: the running layout is abandoned, its worker stopped, and the collapsed graph drawn.
      await v.page.locator('#collapse-all').click();
      await until(v, `document.getElementById('graph-holder').dataset.ready !== ${JSON.stringify(ready)}`, 60_000);
      assert.equal(await v.page.locator('#graph .el.pod').count(), 0);
      assert.equal(await v.page.locator('#graph .el.nodes').count(), 6);
      assert.equal(await v.page.locator('#graph-status').getAttribute('aria-busy'), null);
      assert.equal(
        ((await v.page.evaluate('window.__workers')) as unknown[]).length,
        workers + 1,
        'a fresh worker replaced the one laying out every pod',
      );
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('a small topology opens fitted in a narrow panel too, and refits when the panel grows', async () => {
    const v = await h.open(STATE, 'dark', { width: 500, height: 700 });
    try {
      await v.post(topologyMessage('pod-to-service'));
      await v.page.locator('#graph-holder[data-ready]').waitFor();
      await assertDrawnAndReadable(v, 'topology-narrow', 0.25);
      await v.page.setViewportSize({ width: 1400, height: 1000 });
      await until(v, 'document.querySelector("#viewport").getBoundingClientRect().width > 700');
      await assertDrawnAndReadable(v, 'topology-widened');
    } finally {
      await v.close();
    }
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as const) {
    test(`screenshot in ${theme}: the graph is drawn`, async () => {
      const v = await openTopology(topologyMessage('pod-to-service'), theme);
      try {
        assert.ok((await v.page.locator('#graph *').count()) > 80, 'a non-trivial graph');
        const full = await v.page.screenshot();
        savePng(`topology-${theme}`, full);
        const stats = await pixelStats(h.browser, await v.page.locator('#graph-holder').screenshot());
        assert.ok(
          stats.variance > 100 && stats.distinct > 20,
          `the graph is not an empty panel (${JSON.stringify(stats)})`,
        );
        assert.deepEqual(await v.violations(), []);
      } finally {
        await v.close();
      }
    });
  }
});
