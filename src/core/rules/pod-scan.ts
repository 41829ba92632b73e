/**
 * The few pods the pod rules look at, found in one pass over a topology's pods and shared. pod.port-conflict,
 * pod.hostport-conflict, pod.host-network-ip and cni.portmap-missing each walked every pod (150,000 at Kubernetes'
 * limits, and every container and port of each), mostly before the engine optimised them, to find the handful with
 * two ports, a hostPort or the node's network; each now walks only its own, in the topology's order.
 */
import type { Pod, Topology } from '../model/types';
import { work } from '../work';

export interface PodScan {
  /** Pods with two ports or more, among all their containers' (two may clash: pod.port-conflict). */
  readonly severalPorts: readonly Pod[];
  /** Pods that take a port of their node: a port with a hostPort, or any port of a hostNetwork pod. */
  readonly nodePorts: readonly Pod[];
  /** Pods that share their node's network namespace. */
  readonly hostNetwork: readonly Pod[];
}

const scans = new WeakMap<Topology, PodScan>();

/** The pods of `t` the pod rules look at: made on first use, kept for the topology. */
export function podScan(t: Topology): PodScan {
  const known = scans.get(t);
  if (known) return known;
  const severalPorts: Pod[] = [];
  const nodePorts: Pod[] = [];
  const hostNetwork: Pod[] = [];
  // Indexed loops: run once, mostly before it is optimised, where a for-of made an object per step.
  const pods = t.pods;
  work.podsScanned += pods.length;
  for (let i = 0; i < pods.length; i++) {
    const pod = pods[i];
    if (pod.hostNetwork) hostNetwork.push(pod);
    let ports = 0;
    let hostPort = false;
    const containers = pod.containers;
    for (let ci = 0; ci < containers.length; ci++) {
      const list = containers[ci].ports;
      ports += list.length;
      for (let pi = 0; pi < list.length && !hostPort; pi++) if (list[pi].hostPort !== undefined) hostPort = true;
    }
    if (ports > 1) severalPorts.push(pod);
    if (hostPort || (pod.hostNetwork && ports > 0)) nodePorts.push(pod);
  }
  const scan = { severalPorts, nodePorts, hostNetwork };
  scans.set(t, scan);
  return scan;
}
