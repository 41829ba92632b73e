/** The topology view: the cluster's nodes, pods, Services and networks. Draws only what the host sends. */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import type { SpanRef, TopologySummary } from '../../protocol/messages';
import { el, initialState, onHostMessage, vscode } from '../shared/host';
import { applyStyles } from '../shared/styles';

applyStyles();
const app = document.getElementById('app')!;


function table(headers: string[], rows: { cells: string[]; span?: SpanRef }[]): HTMLElement {
  const t = el('vscode-table', { 'zebra': '', 'bordered-columns': '', 'resizable': '' });
  const head = el('vscode-table-header', { slot: 'header' });
  for (const h of headers) head.append(el('vscode-table-header-cell', {}, h));
  const body = el('vscode-table-body', { slot: 'body' });
  for (const r of rows) {
    const row = el('vscode-table-row');
    r.cells.forEach((c, i) => {
      if (i === 0 && r.span) {
        const button = el('button', { class: 'link', title: 'Show in the topology file' }, c);
        const span = r.span;
        button.addEventListener('click', () => vscode.postMessage({ type: 'reveal', file: span.file, start: span.start, end: span.end }));
        row.append(el('vscode-table-cell', {}, button));
      } else row.append(el('vscode-table-cell', {}, c));
    });
    body.append(row);
  }
  t.append(head, body);
  return t;
}

function render(data: TopologySummary): void {
  app.replaceChildren(
    el('h1', { id: 'view-title' }, data.name),
    el('p', { class: 'muted' }, `${data.nodes.length} nodes, ${data.pods.length} pods, ${data.services.length} Services, ${data.diagnostics} diagnostics`),
    el('h2', {}, 'Nodes'),
    table(['Node', 'Interfaces', 'Pod CIDRs', 'Bridge'], data.nodes.map((n) => ({ cells: [n.name, n.addresses.join(', '), n.podCIDRs.join(', '), n.bridge], span: n.span }))),
    el('h2', {}, 'Pods'),
    table(['Pod', 'Node', 'IPs', 'Host veth'], data.pods.map((p) => ({ cells: [p.id, p.node, p.ips.join(', '), p.veth], span: p.span }))),
    el('h2', {}, 'Services'),
    table(['Service', 'Cluster IPs', 'Endpoints'], data.services.map((s) => ({ cells: [s.id, s.clusterIPs.join(', '), s.endpoints.join(', ') || '(none)'], span: s.span }))),
    el('h2', {}, 'Networks'),
    table(['Network', 'CIDR'], data.networks.map((n) => ({ cells: [n.name, n.cidr] }))),
  );
}

onHostMessage((message) => {
  if (message.type === 'topology') {
    vscode.setState(message.state);
    render(message.data);
  } else if (message.type === 'error') {
    app.replaceChildren(el('p', { class: 'error' }, message.message));
  }
});
const state = initialState();
if (state) vscode.setState(state);
app.replaceChildren(el('p', { class: 'muted' }, 'Loading the topology…'));
vscode.postMessage({ type: 'ready' });
