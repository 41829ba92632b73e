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
  const lenses: TraceLens[] = [];
  const defs = occurrencesOf(analysis).filter(
    (o) => o.role === 'definition' && o.span.file === file && /^(pod|svc|external):/.test(o.id),
  );
  for (const d of defs) {
    const [kind, id] = [d.id.slice(0, d.id.indexOf(':')), d.id.slice(d.id.indexOf(':') + 1)];
    if (kind === 'pod') {
      const pod = t.pods.find((p) => p.id === id);
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
      const svc = t.services.find((s) => s.id === id);
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
