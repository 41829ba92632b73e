/**
 * CodeLens data: "Trace from here" and "Trace to here" over each pod and external, "Trace to here" over
 * each Service port, with the endpoint in the syntax of `netpath trace` (src/core/trace/endpoints.ts).
 * A Service is never a source (the tracer refuses one: a Service IP only ever receives), so Services get
 * no "Trace from here".
 */
import type { Span } from '../problem';
import type { Analysis } from '../analysis';
import { occurrencesOf } from './navigation';

export interface TraceLens {
  /** Where the lens shows: the name of the pod, Service or external. */
  readonly span: Span;
  readonly title: string;
  /** Exactly one of `from` and `to` is set: the endpoint the trace starts from or goes to. */
  readonly from?: string;
  readonly to?: string;
}

/** The trace lenses of `file`, in document order. */
export function traceLenses(analysis: Analysis, file: string): TraceLens[] {
  const t = analysis.topology;
  // By id, not by searching the lists per definition: a 15,000-pod file has 15,000 pods to look up (quadratic took
  // seconds on the editor's thread). The first of a repeated id, as a search finds it.
  const pods = firstById(t.pods);
  const services = firstById(t.services);
  const lenses: TraceLens[] = [];
  const defs = occurrencesOf(analysis).filter(
    (o) => o.role === 'definition' && o.span.file === file && /^(pod|svc|external):/.test(o.id),
  );
  for (const d of defs) {
    const [kind, id] = [d.id.slice(0, d.id.indexOf(':')), d.id.slice(d.id.indexOf(':') + 1)];
    if (kind === 'pod') {
      const pod = pods.get(id);
      if (!pod) continue;
      const port = pod.containers.flatMap((c) => c.ports)[0];
      lenses.push({ span: d.span, title: 'Trace from here', from: `pod/${id}` });
      lenses.push({
        span: d.span,
        title: 'Trace to here',
        to: port ? `pod/${id}:${port.name ?? port.containerPort}` : `pod/${id}`,
      });
    } else if (kind === 'external') {
      lenses.push({ span: d.span, title: 'Trace from here', from: `external/${id}` });
      lenses.push({ span: d.span, title: 'Trace to here', to: `external/${id}` });
    } else {
      const svc = services.get(id);
      if (!svc) continue;
      const ports = svc.ports.length ? svc.ports : [undefined];
      for (const p of ports) {
        const suffix = p ? `:${p.name || p.port}` : '';
        lenses.push({
          span: d.span,
          title: ports.length > 1 && p ? `Trace to here (${p.name || p.port})` : 'Trace to here',
          to: `svc/${id}${suffix}`,
        });
      }
    }
  }
  return lenses.sort((a, b) => a.span.start - b.span.start);
}

function firstById<T extends { readonly id: string }>(list: readonly T[]): Map<string, T> {
  const byId = new Map<string, T>();
  for (const x of list) if (!byId.has(x.id)) byId.set(x.id, x);
  return byId;
}
