/** The commented starter topology of "NetPath: New Topology File". */
export const STARTER_TOPOLOGY = `# A NetPath topology: the plumbing of a Kubernetes cluster network.
# Save it as <name>.netpath.yaml. Hover any key to learn what it means.
apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata:
  name: my-cluster
# include: [manifests/*.yaml]        # Kubernetes manifests to merge in
cluster:
  podCIDRs: [10.244.0.0/16]           # every pod IP comes from here
  serviceCIDRs: [10.96.0.0/12]        # Service (virtual) IPs; must not overlap anything else
networks:                             # the physical network the nodes share
  - name: lan
    cidr: 192.168.56.0/24
nodes:
  - name: node1
    interfaces:
      - {name: eth0, network: lan, address: 192.168.56.11/24}
    podCIDR: 10.244.1.0/24            # this node's slice of the cluster CIDR
pods:
  - name: web
    node: node1
    ip: 10.244.1.10
    labels: {app: web}
    containers:
      - name: app
        ports: [{containerPort: 8080}]
services:
  - name: web
    clusterIP: 10.96.0.10
    selector: {app: web}
    ports: [{port: 80, targetPort: 8080}]
`;
