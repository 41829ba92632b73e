/**
 * How kube-proxy reads EndpointSlice conditions (proxy.CategorizeEndpoints): traffic goes to ready endpoints; when
 * a traffic policy leaves none, to the terminating endpoints that still serve; never to one that does not serve.
 */
export interface EndpointConditions {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** The endpoints a set uses: its ready ones, else (`fallback`) its serving terminating ones. */
export function usableEndpoints<E extends EndpointConditions>(eps: readonly E[]): { used: E[]; fallback: boolean } {
  const ready = eps.filter((e) => e.ready);
  if (ready.length) return { used: ready, fallback: false };
  const serving = eps.filter((e) => e.serving && e.terminating);
  return { used: serving, fallback: serving.length > 0 };
}
