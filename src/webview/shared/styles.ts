import css from './style.css';

/** Adds the shared stylesheet with the page's nonce (the CSP allows no other inline style). */
export function applyStyles(): void {
  const style = document.createElement('style');
  style.nonce = document.body.dataset.nonce ?? '';
  style.textContent = css;
  document.head.append(style);
}
