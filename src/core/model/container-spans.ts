/**
 * Where a pod's (or pod template's) container ports are written. A list of containers may be one model object shared
 * by several pods whose containers read alike (fields.ts `readContainers`: a cluster's replicas have the same
 * containers), so a port cannot keep its own offsets: they are its pod's, in the pod's `spans` under
 * `containers.<i>.ports.<j>.<field>`, with `i` and `j` indices into the model's lists.
 */
import type { Span } from '../problem';
import type { Located } from './types';

/** The fields of a container port whose value's span its pod keeps. */
export type ContainerPortField = 'containerPort' | 'hostPort';

/**
 * The keys of the first containers' first ports, made once: every pod's spans hold one, and the model keeps them all
 * (a key made per pod was a string per pod).
 */
const SMALL = 8;
const keys: Record<ContainerPortField, string[]> = { containerPort: [], hostPort: [] };

export function containerPortSpanKey(container: number, port: number, field: ContainerPortField): string {
  if (container >= SMALL || port >= SMALL) return `containers.${container}.ports.${port}.${field}`;
  const at = container * SMALL + port;
  return (keys[field][at] ??= `containers.${container}.ports.${port}.${field}`);
}

/** The span of a container port's field, from the pod (or pod template) whose `containers[container]` holds it. */
export function containerPortSpan(
  owner: Pick<Located, 'spans'>,
  container: number,
  port: number,
  field: ContainerPortField,
): Span | undefined {
  return owner.spans[containerPortSpanKey(container, port, field)];
}
