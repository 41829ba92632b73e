/**
 * Label selectors as the API reference defines them (meta/v1 LabelSelector): `matchLabels` and every
 * `matchExpressions` requirement must hold (AND); an empty selector matches everything; `NotIn` and
 * `DoesNotExist` hold for an object without the key. A selector the API server would refuse matches nothing.
 */
import type { LabelSelector, SelectorRequirement } from '../model/types';

export type Labels = Readonly<Record<string, string>>;

function requirementHolds(r: SelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  if (selector.invalid) return false;
  for (const [k, v] of Object.entries(selector.matchLabels)) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
  }
  return selector.matchExpressions.every((r) => requirementHolds(r, labels));
}

/** Whether the selector is `{}`: it selects every pod (or namespace). */
export function selectsAll(selector: LabelSelector): boolean {
  return !selector.invalid && !Object.keys(selector.matchLabels).length && !selector.matchExpressions.length;
}

/** The label keys a selector reads: two label sets that agree on these are told apart by no such selector. */
export function selectorKeys(selector: LabelSelector): string[] {
  return [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((r) => r.key)];
}

/** `app=web,tier in (a,b)`: a selector the way kubectl prints it. */
export function formatSelector(selector: LabelSelector): string {
  if (selector.invalid) return '(invalid selector)';
  const parts = [
    ...Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...selector.matchExpressions.map((r) =>
      r.operator === 'Exists'
        ? r.key
        : r.operator === 'DoesNotExist'
          ? `!${r.key}`
          : `${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`,
    ),
  ];
  return parts.length ? parts.join(',') : '{} (all)';
}
