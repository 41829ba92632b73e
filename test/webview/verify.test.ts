/** The trace view's verify mode in real headless Chromium: per flow agreement or differences, open a flow as a trace, hostile names as text, CSP, state after a reload. */
import assert from 'node:assert/strict';
import type { VerifyReportData, VerifyViewState, WebviewMessage } from '../../src/protocol/messages';
import { startHarness, type Harness } from './harness';

const HOSTILE = '<img src=x onerror=alert(1)>';

const hop = (netns: string, device: string, dir: 'in' | 'out', optional?: boolean) => ({
  netns,
  device,
  dir,
  ...(optional ? { optional } : {}),
});

const REPORT: VerifyReportData = {
  topology: `lab ${HOSTILE}`,
  prefix: 'npv-1',
  agree: false,
  timings: { setupMs: 400, flowsMs: 2000, teardownMs: 30 },
  devices: { compared: 1, notObserved: 1, drops: 3, retried: 1 },
  flows: [
    {
      from: 'pod/default/client',
      to: 'svc/default/web:80',
      proto: 'tcp',
      kind: 'pod to Service',
      agree: true,
      ms: 300,
      differences: [],
      policy: [
        {
          netns: 'node:node1',
          direction: 'ingress',
          pod: 'default/web-1',
          verdict: 'allowed',
          policy: `default/${HOSTILE}`,
          ruleIndex: 1,
          packets: 1,
        },
      ],
      predicted: {
        src: '10.244.1.10',
        dst: '10.96.0.10',
        dport: 80,
        outcomes: [
          {
            probability: 1,
            disposition: 'delivered',
            reason: null,
            answeredBy: 'default/web-1:8080',
            sourceSeen: '10.244.1.10',
            nat: ['node:node1 DNAT 10.244.1.11 port 8080'],
            devices: [
              hop('pod:default/client', 'eth0', 'out'),
              hop('node:node1', 'cni0', 'in', true),
              hop('pod:default/web-1', 'eth0', 'in'),
            ],
          },
        ],
      },
      observed: {
        tries: 1,
        sourceAddress: '10.244.1.10',
        outcomes: [
          {
            result: 'answered',
            answeredBy: 'default/web-1:8080',
            sourceSeen: '10.244.1.10',
            nat: ['node:node1 DNAT 10.244.1.11 port 8080'],
            devices: [hop('pod:default/client', 'eth0', 'out'), hop('pod:default/web-1', 'eth0', 'in')],
            count: 1,
          },
        ],
      },
    },
    {
      from: `pod/default/${HOSTILE}`,
      to: 'pod/default/web-2:8080',
      proto: 'tcp',
      agree: false,
      ms: 700,
      devices: 'not observed',
      devicesNote: ['node:node1 dropped 3 packets'],
      differences: [`source seen by default/web-2:8080: kernel 192.168.56.11, tracer 10.244.1.10 ${HOSTILE}`],
      predicted: {
        src: '10.244.1.10',
        dst: '10.244.2.10',
        dport: 8080,
        outcomes: [
          {
            probability: 1,
            disposition: 'delivered',
            reason: null,
            answeredBy: 'default/web-2:8080',
            sourceSeen: '10.244.1.10',
            nat: [],
            devices: [],
          },
        ],
      },
      observed: {
        tries: 1,
        sourceAddress: '10.244.1.10',
        outcomes: [
          {
            result: 'answered',
            answeredBy: 'default/web-2:8080',
            sourceSeen: '192.168.56.11',
            nat: ['node:node1 SNAT 192.168.56.11'],
            devices: null,
            count: 1,
          },
        ],
      },
    },
  ],
};

const STATE: VerifyViewState = { view: 'verify', file: 'file:///w/lab.netpath.yaml', report: REPORT };

suite('trace view: verify mode', () => {
  let h: Harness;
  suiteSetup(async () => {
    h = await startHarness();
  });
  suiteTeardown(async () => {
    await h?.close();
  });

  test('shows per flow agreement or the differences, predicted against observed; hostile names as text; no CSP violation', async () => {
    const v = await h.open(STATE);
    try {
      await v.post({ type: 'verify', state: STATE });
      await v.page.locator('#verify-summary').waitFor();
      assert.match(await v.page.locator('#verify-summary').innerText(), /disagrees with the tracer on 1 of 2 flows/);
      assert.equal(await v.page.locator('#view-title').innerText(), `Verify on the Linux kernel: lab ${HOSTILE}`);
      assert.equal(await v.page.locator('details.verify-flow').count(), 2);
      assert.equal(await v.page.locator('details.verify-flow.ok').count(), 1);
      const bad = v.page.locator('details.verify-flow.bad');
      assert.equal(await bad.getAttribute('open'), '', 'a differing flow is open');
      assert.match(
        await bad.locator('.differences li').innerText(),
        /kernel 192\.168\.56\.11, tracer 10\.244\.1\.10 <img src=x onerror=alert\(1\)>/,
      );
      assert.match(
        await bad.locator('summary').innerText(),
        /pod\/default\/<img src=x onerror=alert\(1\)> → pod\/default\/web-2:8080/,
      );
      assert.equal(await v.page.locator('#app img').count(), 0, 'no element made from a name');
      // Predicted and observed rows, with devices (an optional bridge hop marked; not captured said so).
      await v.page.locator('details.verify-flow.ok summary').click();
      const ok = v.page.locator('details.verify-flow.ok');
      assert.match(await ok.locator('tr.predicted .devices').innerText(), /node:node1 cni0 in \(may be skipped\)/);
      assert.match(
        await ok.locator('tr.observed .devices').innerText(),
        /pod:default\/client eth0 out → pod:default\/web-1 eth0 in/,
      );
      assert.match(await bad.locator('tr.observed .devices').innerText(), /not captured/);
      // The lab enforced NetworkPolicy: the kernel's verdicts of the flow, as text.
      assert.equal(
        await ok.locator('ul.policy-verdicts li').innerText(),
        `node:node1 ingress default/web-1 allowed by default/${HOSTILE} ingress[1] (1 packet)`,
      );
      assert.equal(await bad.locator('ul.policy-verdicts').count(), 0);
      // A flow whose captures lost packets says so, with the reason, and the run's device counts are shown.
      assert.match(await bad.locator('summary').innerText(), /devices not observed/);
      assert.match(await bad.locator('.devices-note').innerText(), /node:node1 dropped 3 packets/);
      assert.match(
        await v.page.locator('#verify-devices').innerText(),
        /compared on 1 of 2 flows, not observed on 1; capture drops 3/,
      );
      assert.match(await bad.locator('tr.observed').innerText(), /node:node1 SNAT 192\.168\.56\.11/);
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });

  test('opens a flow as a normal trace (retrace with its request), keeps the report after a reload, drops a malformed report', async () => {
    const v = await h.open(STATE);
    try {
      await v.post({ type: 'verify', state: STATE });
      await v.page.locator('details.verify-flow.bad vscode-button.open-trace').click();
      const sent = (await v.posted()).filter(
        (m): m is Extract<WebviewMessage, { type: 'retrace' }> => m.type === 'retrace',
      );
      assert.deepEqual(
        sent.map((m) => m.request),
        [{ from: `pod/default/${HOSTILE}`, to: 'pod/default/web-2:8080', proto: 'tcp' }],
      );
      await v.page.reload();
      await v.page.locator('#verify-summary').waitFor();
      assert.equal(
        await v.page.locator('details.verify-flow').count(),
        2,
        'drawn from the persisted state before the host answers',
      );
      await v.post({ type: 'verify', state: { ...STATE, report: { ...REPORT, flows: [{ from: 1 }] } } });
      assert.equal(await v.page.locator('details.verify-flow').count(), 2, 'a malformed report is not drawn');
      assert.deepEqual(await v.violations(), []);
    } finally {
      await v.close();
    }
  });
});
