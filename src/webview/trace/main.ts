/** The trace view: a packet's way hop by hop. Draws only what the host sends. */
import { el, initialState, onHostMessage, vscode } from '../shared/host';
import { applyStyles } from '../shared/styles';

applyStyles();
const app = document.getElementById('app')!;

onHostMessage((message) => {
  if (message.type === 'trace') {
    vscode.setState(message.state);
    app.replaceChildren(el('h1', { id: 'view-title' }, `${message.state.request.from} → ${message.state.request.to}`));
  } else if (message.type === 'error') {
    app.replaceChildren(el('p', { class: 'error' }, message.message));
  }
});
const state = initialState();
if (state) vscode.setState(state);
vscode.postMessage({ type: 'ready' });
