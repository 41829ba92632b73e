/** A small topology for the language feature tests: a NetPath document that includes Kubernetes objects. */
import assert from 'node:assert/strict';
import { analyse, type Analysis, type Span } from '../../../src/core';

export const TOPOLOGY = '/t/lab.netpath.yaml';
export const OBJECTS = '/t/objects.yaml';

export const FILES: Record<string, string> = {
  [TOPOLOGY]: `apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata:
  name: lab
include: [objects.yaml]
networks:
  - name: lan
    cidr: 192.168.56.0/24
nodes:
  - name: node1
    interfaces:
      - {name: eth0, network: lan, address: 192.168.56.11/24}
    podCIDR: 10.244.1.0/24
    routes:
      - to: 10.244.2.0/24
        via: 192.168.56.12
        dev: eth0
  - name: node2
    interfaces:
      - name: eth0
        network: lan
        address: 192.168.56.12/24
    podCIDR: 10.244.2.0/24
pods:
  - name: a
    node: node1
    ip: 10.244.1.10
    labels: {app: client}
  - name: web-1
    node: node2
    ip: 10.244.2.10
    labels: {app: web, tier: front}
    containers:
      - name: app
        ports: [{name: http, containerPort: 8080}]
services:
  - name: web
    clusterIP: 10.96.0.10
    selector: {app: web}
    ports: [{name: http, port: 80, targetPort: http}]
externals:
  - name: laptop
    network: lan
    address: 192.168.56.100/24
`,
  [OBJECTS]: `apiVersion: v1
kind: Pod
metadata:
  name: web-2
  labels:
    app: web
spec:
  nodeName: node1
  containers:
    - name: app
      ports:
        - name: http
          containerPort: 8080
status:
  podIP: 10.244.1.20
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: web
  ports:
    - port: 8080
      targetPort: http
`,
};

export const analysis: Analysis = analyse(Object.entries(FILES).map(([path, text]) => ({ path, text })));

/** The offset `into` characters into the `nth` (from 0) occurrence of `needle` in `file`. */
export function at(file: string, needle: string, nth = 0, into = 0): number {
  let found = -1;
  for (let i = 0; i <= nth; i++) {
    found = FILES[file].indexOf(needle, found + 1);
    assert.ok(found >= 0, `"${needle}" (occurrence ${nth}) is not in ${file}`);
  }
  return found + into;
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** `file:line:text` of a span, to assert positions without counting offsets. */
export function show(span: Span): string {
  const text = FILES[span.file] ?? '';
  const line = text.slice(0, span.start).split('\n').length;
  return `${base(span.file)}:${line}:${text.slice(span.start, span.end)}`;
}
