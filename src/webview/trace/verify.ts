/**
 * The trace view's verify mode: the kernel lab's report (`NetPath: Verify on Linux Kernel`), one section per
 * flow with agreement or its differences, predicted against observed: delivery, the source the receiver saw,
 * NAT and the devices crossed. Each flow opens as a normal trace. Everything from the report is text.
 */
import type { TraceProtocol, VerifyDeviceHop, VerifyFlow, VerifyViewState } from '../../protocol/messages';
import { el } from '../shared/host';
import { policyVerdictText } from '../../protocol/verify';

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp', 'icmp'];
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
const devicesText = (hops: readonly VerifyDeviceHop[] | null) =>
  hops
    ? hops.length
      ? hops.map((h) => `${h.netns} ${h.device} ${h.dir}${h.optional ? ' (may be skipped)' : ''}`).join(' → ')
      : 'none'
    : 'not captured';
const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

function comparison(f: VerifyFlow): HTMLElement {
  const table = el('table', {
    class: 'hops verify-compare',
    'aria-label': `Predicted and observed for ${f.from} → ${f.to}`,
  });
  table.append(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['', 'Delivery', 'Source seen', 'NAT', 'Devices crossed'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
  );
  const body = el('tbody');
  for (const o of f.predicted?.outcomes ?? []) {
    body.append(
      el(
        'tr',
        { class: 'predicted' },
        el('th', { scope: 'row' }, `Tracer ${pct(o.probability)}`),
        el('td', { class: 'mono' }, o.answeredBy ?? `${o.disposition}${o.reason ? ` (${o.reason})` : ''}`),
        el('td', { class: 'mono' }, o.sourceSeen ?? '—'),
        el('td', { class: 'mono' }, list(o.nat)),
        el('td', { class: 'mono devices' }, devicesText(o.devices)),
      ),
    );
  }
  for (const o of f.observed?.outcomes ?? []) {
    body.append(
      el(
        'tr',
        { class: 'observed' },
        el('th', { scope: 'row' }, `Kernel ×${o.count}`),
        el('td', { class: 'mono' }, o.answeredBy ?? `${o.result}${o.code ? ` (${o.code})` : ''}`),
        el('td', { class: 'mono' }, o.sourceSeen ?? '—'),
        el('td', { class: 'mono' }, list(o.nat)),
        el('td', { class: 'mono devices' }, devicesText(o.devices)),
      ),
    );
  }
  table.append(body);
  return table;
}

function flowSection(f: VerifyFlow, i: number, onOpen: (f: VerifyFlow) => void): HTMLElement {
  const open = el(
    'vscode-button',
    {
      class: 'open-trace',
      'data-flow': String(i),
      secondary: '',
      title: 'Open this flow in a trace view',
      'aria-label': `Open ${f.from} → ${f.to} as a trace`,
    },
    'Open as trace',
  );
  if (PROTOCOLS.includes(f.proto)) open.addEventListener('click', () => onOpen(f));
  else open.setAttribute('disabled', '');
  const details = el(
    'details',
    { class: `verify-flow ${f.agree ? 'ok' : 'bad'}`, 'data-flow': String(i), ...(f.agree ? {} : { open: '' }) },
    el(
      'summary',
      {},
      el('strong', { class: `disposition ${f.agree ? 'ok' : 'bad'}` }, f.agree ? 'Agrees' : 'Differs'),
      ' ',
      el('span', { class: 'mono flow-name' }, `${f.from} → ${f.to}`),
      ` (${f.proto.toUpperCase()})`,
      f.kind ? el('span', { class: 'muted' }, ` · ${f.kind}`) : '',
      el(
        'span',
        { class: 'muted' },
        ` · ${f.observed ? `${f.observed.tries} ${f.observed.tries === 1 ? 'try' : 'tries'}, ` : ''}${f.ms} ms`,
      ),
      f.devices === 'not observed' ? el('span', { class: 'devices-status warning' }, ' · devices not observed') : '',
    ),
  );
  if (f.devices === 'not observed') {
    details.append(
      el(
        'p',
        { class: 'muted devices-note' },
        `The devices crossed were not compared: the captures lost packets of this flow${f.devicesNote?.length ? ` (${f.devicesNote.join('; ')})` : ''}. Delivery, source and NAT were still compared.`,
      ),
    );
  }
  if (f.policy?.length) {
    // The lab enforces NetworkPolicy: what its policy chains decided, for comparison with the trace's policy steps.
    const ul = el('ul', { class: 'policy-verdicts', 'aria-label': 'NetworkPolicy verdicts in the kernel' });
    for (const v of f.policy)
      ul.append(
        el('li', { class: 'mono' }, `${policyVerdictText(v)} (${v.packets} ${v.packets === 1 ? 'packet' : 'packets'})`),
      );
    details.append(el('h3', {}, 'NetworkPolicy in the kernel'), ul);
  }
  if (f.differences.length) {
    const ul = el('ul', { class: 'differences', 'aria-label': 'Differences' });
    for (const d of f.differences) ul.append(el('li', {}, d));
    details.append(el('h3', {}, 'Differences'), ul);
  }
  if (f.predicted)
    details.append(
      el(
        'p',
        { class: 'muted mono' },
        `Tracer: ${f.predicted.src} → ${f.predicted.dst}${f.predicted.dport !== null ? ` port ${f.predicted.dport}` : ''}; the kernel chose source ${f.observed?.sourceAddress ?? 'unknown'}`,
      ),
    );
  details.append(comparison(f), el('div', { class: 'toolbar' }, open));
  return details;
}

/** Draws the verify mode into `app`; `onOpen` asks the host to open a flow as a trace. */
export function renderVerify(
  app: HTMLElement,
  s: VerifyViewState,
  onOpen: (request: { from: string; to: string; proto: TraceProtocol }) => void,
): void {
  const r = s.report;
  const agreeing = r.flows.filter((f) => f.agree).length;
  const t = r.timings;
  const sections = el('div', { id: 'verify-flows' });
  r.flows.forEach((f, i) =>
    sections.append(flowSection(f, i, (x) => onOpen({ from: x.from, to: x.to, proto: x.proto as TraceProtocol }))),
  );
  app.replaceChildren(
    el('h1', { id: 'view-title' }, `Verify on the Linux kernel: ${r.topology}`),
    el(
      'p',
      { id: 'verify-summary', class: `disposition ${r.agree ? 'ok' : 'bad'}`, role: 'status' },
      el('strong', {}, r.agree ? 'The kernel agrees with the tracer' : 'The kernel disagrees with the tracer'),
      ` on ${r.agree ? 'all' : `${r.flows.length - agreeing} of`} ${r.flows.length} flows`,
    ),
    el(
      'p',
      { class: 'muted' },
      `Lab ${r.prefix}: built in ${t.setupMs} ms, flows ${t.flowsMs} ms, removed in ${t.teardownMs} ms. Compared per flow: delivery, the source the receiver saw, NAT and the devices crossed in pod and node namespaces.`,
    ),
    ...(r.unplacedPods?.length
      ? [
          el(
            'p',
            { id: 'verify-unplaced', class: 'muted' },
            `Not built: ${r.unplacedPods.map((p) => `pod ${p}`).join(', ')} (no node: spec.nodeName is unset), so the lab made no namespace for ${r.unplacedPods.length === 1 ? 'it' : 'them'}.`,
          ),
        ]
      : []),
    r.devices
      ? el(
          'p',
          { id: 'verify-devices', class: 'muted' },
          `Devices crossed compared on ${r.devices.compared} of ${r.flows.length} flows${r.devices.notObserved ? `, not observed on ${r.devices.notObserved}` : ''}; capture drops ${r.devices.drops}, flows tried again ${r.devices.retried}.`,
        )
      : '',
    sections,
  );
}
