/**
 * Counters of the work the core does, so tests can check that work grows with the input and no faster
 * (test/unit/scale/work.test.ts doubles a cluster and compares them): never timed, never shown to users.
 * Plain increments on a module-level object, so counting costs nothing worth measuring.
 */
export interface WorkCounters {
  /** Rules the netfilter evaluators (iptables and nftables) looked at (one per rule per packet per branch). */
  rulesEvaluated: number;
  /**
   * Netfilter hooks the iptables evaluator ran for a packet (a packet answered from a sibling's evaluation, see
   * src/core/netfilter/evaluate.ts `SiblingQuestion`, is not counted).
   */
  hookEvaluations: number;
  /**
   * Rule objects the iptables parser made (parsed lines, memo templates, rules placed into a ruleset) and rules the
   * nftables parser made.
   */
  ruleObjects: number;
  /**
   * Lines the iptables parser read word by word (src/core/netfilter/parse.ts `parseCommand`): a line a parse memo
   * knows, by its text or by its shape (a Service's endpoint jumps, alike for every Service with as many endpoints),
   * is placed without being read.
   */
  iptablesLinesParsed: number;
  /** Traces the diagnostic rules ran as probes. */
  probes: number;
  /** Route objects the data plane made (connected, declared, implied host-gw routes). */
  routes: number;
  /**
   * Netfilter decisions the trace linked into its paths' step lists (outcomes of one hook that share decisions share
   * their steps: a Service's endpoint paths share the "not chosen" decisions before their own).
   */
  netfilterSteps: number;
  /**
   * Netfilter step objects the trace made: a rule that decides the same way again (the next endpoint path, the next
   * trace through the node) reuses its step, so a warm trace makes few.
   */
  netfilterStepObjects: number;
  /**
   * Hops the trace made for its paths (src/core/trace/walk.ts `hopsOf`): the walk records hops in a list its branches
   * share, and a hop that several paths crossed alike (the source pod's, before a Service's DNAT splits the walk) is
   * made once for all of them, not copied into every path at every device.
   */
  hopObjects: number;
  /**
   * Steps the trace read looking for the notes its paths carry (src/core/trace/trace.ts `toPath`): only a path that may
   * hold a step making one (an affinity NAT, an end at a load balancer) is read, not every step of every endpoint path.
   */
  noteStepsRead: number;
  /**
   * kube-proxy nftables-mode rulesets generated and parsed whole for a data plane: one per group of nodes that share
   * them (src/core/dataplane/kube-proxy-nft-share.ts), or one per node when the cluster's rules depend on the node.
   */
  kubeProxyNftRulesets: number;
  /**
   * Rulesets with kube-proxy's iptables-mode lines scanned for a data plane: one per group of nodes that share theirs
   * (nothing of their own, the same kube-proxy lines), one template of kube-proxy's lines per group of nodes with
   * lines of their own (src/core/dataplane/kube-proxy-iptables-share.ts), and one per node parsed on its own.
   */
  kubeProxyIptablesRulesets: number;
  /**
   * Pods' host veths (bridge ports) the data plane made: a node's are made when its devices or bridges are first read
   * (src/core/cni/bridge.ts), so a lint or a trace makes those of the nodes it crosses, not one per pod.
   */
  podPorts: number;
  /**
   * Address entries of the range index (src/core/rules/ranges.ts) handed to the address rules to walk, summed over the
   * rules that ask: the pod IPs no rule can report are set aside once (src/core/rules/address-screen.ts).
   */
  addressEntriesWalked: number;
  /** Pod IPs of the range index parsed into addresses: only those a rule asks about (src/core/rules/ranges.ts). */
  podAddressesParsed: number;
  /**
   * Pod IP entries of the range index (src/core/rules/ranges.ts) the rules walked one by one, summed over every walk:
   * the screen (src/core/rules/address-screen.ts) reads each once per index, and the rules read what it found.
   */
  podIPEntriesWalked: number;
  /**
   * Pod IP entries of the range index made (src/core/rules/ranges.ts): only those a rule may report, or every one when
   * something reads the whole list of addresses (a quick fix, a duplicate).
   */
  podAddressEntriesMade: number;
  /**
   * Steps of the quick fixes' free-address searches (src/core/rules/fixes.ts `FreeAddresses`): avoided ranges sorted,
   * candidate addresses tried and avoided blocks jumped. A rule offers each pool's free address found once, and hands
   * out several from one walk, so a cluster's findings do not each walk the pool and every pod range again.
   */
  freeAddressSteps: number;
  /**
   * Address and range entries the quick fix moving a range walked to find what it carries along
   * (src/core/rules/fixes.ts `relocationEdits`): a range's move is made once, however many ranges it overlaps.
   */
  relocationEntriesWalked: number;
  /**
   * Pods the pod rules' shared pass walked (src/core/rules/pod-scan.ts): each pod once per topology, where four rules
   * walked them all.
   */
  podsScanned: number;
  /**
   * Scalar nodes made for values a mapping keeps as text (src/core/syntax/nodes.ts): the model's readers and checks
   * read such a value from its text, making a node only for one they report or whose node they keep.
   */
  plainValueNodes: number;
  /**
   * Values of a NetPath document the schema check resolved to test them (src/core/model/validate.ts): only those a
   * schema can refuse as scalars (an enum, a bound, a type other than string), not every name, address and label.
   */
  schemaValuesResolved: number;
  /**
   * Pod addresses the data plane indexed to find their owners (src/core/dataplane/compile.ts `AddressOwners`): none
   * until a lookup gets past the nodes' addresses, then each pod's once.
   */
  podOwnerAddresses: number;
  /**
   * Arrays the fast YAML reader made for mappings' slots (src/core/syntax/fast-yaml.ts `mapNode`): chunks shared by
   * the mappings read one after another, growing to a fixed size, so a few per file, not one per mapping.
   */
  mapSlotArrays: number;
  /**
   * Decisions of an evaluation of a ruleset shared by several nodes looked up to be placed into one node's rules text
   * (src/core/dataplane/node-rules.ts `placeHookResult`): those an outcome does not share with the outcome before it.
   */
  decisionsPlaced: number;
  /**
   * Lines of kube-proxy's Service chains measured word by word without their text being made
   * (src/core/kubeproxy/generate.ts `TableText.add`): the first generation for a model (a skim) sums its endpoints'
   * lines from their lengths, per Service port, so it measures a few lines per port, not three per endpoint.
   */
  serviceLinesMeasured: number;
  /**
   * YAML texts parsed whole (src/core/syntax/yaml.ts `parseYamlFile`): a file, or YAML embedded in one (a CNI
   * config). Loading a topology looks into a NetPath document that says `include` for its includes; the command that
   * loaded it then analyses that parse instead of making another (src/core/workspace/parse-once.ts).
   */
  yamlTextsParsed: number;
  /**
   * Spans the syntax tree made on request (src/core/syntax/nodes.ts: a node's, a key's, a value's kept as text): the
   * model keeps those of the fields something points at, a few per pod (test/unit/scale/model-spans.test.ts).
   */
  spansMade: number;
  /**
   * Endpoints of Service ports the iptables-mode generator listed (an object and an `ip:port` text each, per port):
   * a skim of a large cluster counts a port's endpoints from their addresses instead (src/core/kubeproxy/generate.ts
   * `tallyEndpoints`), so they are listed when a trace enters a Service or a reader wants the chains' names.
   */
  endpointsListed: number;
  /**
   * Lines kube-proxy's iptables-mode generator wrote out as text while writing a Service port (its KUBE-SERVICES,
   * KUBE-NODEPORTS... lines and its own chains'): a skim keeps the lines of the chains every packet crosses as their
   * words and lengths (src/core/kubeproxy/generate.ts `DeferredRun`), so none is written until a packet reaches one,
   * a trace enters a Service or the text is read.
   */
  serviceLinesWritten: number;
  /**
   * Service ports resolved against a selected pod (src/core/model/merge.ts `resolveTargetPort`): a pod whose
   * containers are the very list the Service's endpoint before it was resolved for (replicas share one) is not
   * resolved again.
   */
  targetPortsResolved: number;
  /**
   * Mappings of a NetPath document the schema check searched for their required keys (src/core/model/validate.ts
   * `validateMap`): only one whose walk did not meet them all, not every pod, container and port.
   */
  requiredKeySearches: number;
  /**
   * Names of pods' (and pod templates') containers read (src/core/model/fields.ts `containerName`): once each, the
   * first container's included, as its pod's list is compared with the one kept.
   */
  containerNamesRead: number;
}

export const work: WorkCounters = {
  rulesEvaluated: 0,
  hookEvaluations: 0,
  ruleObjects: 0,
  iptablesLinesParsed: 0,
  probes: 0,
  routes: 0,
  netfilterSteps: 0,
  netfilterStepObjects: 0,
  hopObjects: 0,
  noteStepsRead: 0,
  kubeProxyNftRulesets: 0,
  kubeProxyIptablesRulesets: 0,
  podPorts: 0,
  addressEntriesWalked: 0,
  podAddressesParsed: 0,
  podIPEntriesWalked: 0,
  podAddressEntriesMade: 0,
  freeAddressSteps: 0,
  relocationEntriesWalked: 0,
  podsScanned: 0,
  plainValueNodes: 0,
  schemaValuesResolved: 0,
  podOwnerAddresses: 0,
  mapSlotArrays: 0,
  decisionsPlaced: 0,
  serviceLinesMeasured: 0,
  yamlTextsParsed: 0,
  spansMade: 0,
  endpointsListed: 0,
  serviceLinesWritten: 0,
  targetPortsResolved: 0,
  requiredKeySearches: 0,
  containerNamesRead: 0,
};

/** The counters so far, and zeroes them. */
export function takeWork(): WorkCounters {
  const now = { ...work };
  work.rulesEvaluated =
    work.hookEvaluations =
    work.ruleObjects =
    work.iptablesLinesParsed =
    work.probes =
    work.routes =
    work.netfilterSteps =
    work.netfilterStepObjects =
    work.hopObjects =
    work.noteStepsRead =
    work.kubeProxyNftRulesets =
    work.kubeProxyIptablesRulesets =
    work.podPorts =
    work.addressEntriesWalked =
    work.podAddressesParsed =
    work.podIPEntriesWalked =
    work.podAddressEntriesMade =
    work.freeAddressSteps =
    work.relocationEntriesWalked =
    work.podsScanned =
    work.plainValueNodes =
    work.schemaValuesResolved =
    work.podOwnerAddresses =
    work.mapSlotArrays =
    work.decisionsPlaced =
    work.serviceLinesMeasured =
    work.yamlTextsParsed =
    work.spansMade =
    work.endpointsListed =
    work.serviceLinesWritten =
    work.targetPortsResolved =
    work.requiredKeySearches =
    work.containerNamesRead =
      0;
  return now;
}
