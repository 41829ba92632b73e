/**
 * The iptables-save text (filter and nat tables) that kube-proxy in iptables mode leaves on one node.
 *
 * The rules, their order inside each chain and their comments follow kube-proxy's syncProxyRules
 * (pkg/proxy/iptables/proxier.go). The output is what `iptables-save` would show, not kube-proxy's restore input:
 * - the built-in chains are declared and hold the jump rules kube-proxy (and kubelet, for KUBE-FIREWALL) ensure
 *   at start-up; kubelet runs first, so its KUBE-FIREWALL jump comes last;
 * - rules are grouped by chain; KUBE-NODEPORTS and KUBE-SERVICES come first, then the other chains sorted by name
 *   (the order kube-proxy's own tests print);
 * - marks are printed as iptables-save does (`0x4000`, not the `0x00004000` kube-proxy feeds in).
 * Services and endpoints keep the input order (kube-proxy iterates maps; only the order within a chain matters).
 * Topology hints are not modelled (every ready endpoint is a cluster endpoint).
 */
import {
  addressFamily,
  literalAddress,
  canonical,
  hostPrefix,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Prefix,
} from '../net/address';
import {
  chainHash,
  chainHashInput,
  chainNameOfOrderKey,
  chainNameOrderKey,
  chainOrderKey,
  endpointString,
  KUBE_PROXY_FIREWALL_CHAIN,
  servicePortName,
  type ChainPrefix,
} from './names';
import type { EndpointInput, KubeProxyInput, ServiceInput, ServicePortInput } from './types';
import { vipLoadBalancerIPs } from './load-balancer';
import type { ChainLayout, DeferredLines } from '../netfilter/parse';
import { work } from '../work';

const KUBE_SERVICES = 'KUBE-SERVICES';
const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
const KUBE_FORWARD = 'KUBE-FORWARD';
const KUBE_PROXY_FIREWALL = KUBE_PROXY_FIREWALL_CHAIN;
const KUBE_FIREWALL = 'KUBE-FIREWALL';
const LARGE_CLUSTER_ENDPOINTS = 1000;
const NO_WORDS: readonly string[] = [];
const NO_RANGES: readonly Prefix[] = [];

/**
 * The words that pick one of `n` remaining endpoints at random, made once per `n`: every Service with as many
 * endpoints writes the same ones (150,000 endpoint lines at Kubernetes' limits, a few dozen distinct lists).
 */
const STATISTIC = new Map<number, readonly string[]>();
function statistic(n: number): readonly string[] {
  let words = STATISTIC.get(n);
  if (words) return words;
  words = ['-m', 'statistic', '--mode', 'random', '--probability', (1 / n).toFixed(10)];
  // Kept for the counts most Services have, so the module's cache stays small whatever the input.
  if (n <= 1024) STATISTIC.set(n, words);
  return words;
}

/** Comments with spaces are quoted, as kube-proxy writes them. */
function q(comment: string): string {
  if (!/\s/.test(comment)) return comment;
  return comment.includes('"') || comment.includes('\\') ? `"${comment.replace(/(["\\])/g, '\\$1')}"` : `"${comment}"`;
}

interface Endpoint {
  readonly ip: string;
  readonly port: number;
  readonly local: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly text: string;
  /** Its KUBE-SEP- chain's name, made when first written with its name (see {@link sepChainOf}). */
  chain?: string;
  readonly node?: string;
}

/**
 * The KUBE-SEP- chain name of one of a Service port's endpoints (`ip:port`) when it is known without hashing it (a
 * skimmed table's order keys hold every name: see {@link chainNameOfOrderKey}); undefined for one it does not know.
 */
type KnownEndpointChain = (endpoint: string) => string | undefined;

/** An endpoint's KUBE-SEP- chain, named once (the endpoint objects are shared by every node of a memo). */
function sepChainOf(ep: Endpoint, spn: string, protocol: string, known?: KnownEndpointChain): string {
  if (ep.chain !== undefined) return ep.chain;
  kubeProxyWork.endpointChainsNamed++;
  return (ep.chain = known?.(ep.text) ?? chainHash(SEP_PREFIX, spn, protocol, ep.text));
}

/**
 * A chain of one Service port (its KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW- and KUBE-SEP- chains in the nat table):
 * its lines are counted and measured as they are written, and their text is made only when read (a trace enters a
 * few of the 100,000s a large cluster has).
 */
const SERVICE_CHAIN = /^KUBE-(?:SVC|SVL|EXT|FW|SEP)-/;

/** The last chain {@link isServiceChain} was asked about, and its answer: a port's lines come in runs of a chain. */
let lastAsked = '';
let lastAnswer = false;
function isServiceChain(chain: string): boolean {
  if (chain !== lastAsked) {
    lastAsked = chain;
    lastAnswer = SERVICE_CHAIN.test(chain);
  }
  return lastAnswer;
}

/** What is known of a measured chain without its text: its lines' count and length, and the ports that wrote them. */
class Measured implements GeneratedRun {
  count = 0;
  /** Characters of its lines, each with its newline. */
  chars = 0;
  /** Other Service ports (indexes) that wrote to it after `port`, in order, each once (none but in odd input). */
  more: number[] | undefined = undefined;
  /** Where its declaration line starts, from the table's first user chain declaration (set when the table is done). */
  declAt = 0;
  /** Where its lines start, from the table's first rule line (set when the table is done). */
  runAt = 0;
  /**
   * Every packet that enters a Service chain reads all of its lines (endpoint picks and jumps: only the masquerade
   * line names a destination), so its reader parses it whole instead of indexing it first (see ChainLayout).
   */
  readonly readWhole = true;
  /** Where its table's Service ports are written again (set when the table is done), and its text once made. */
  source: ((port: number) => TableText) | undefined = undefined;
  private lines: readonly string[] | undefined = undefined;
  constructor(
    readonly chain: string,
    /** The Service port (index) that wrote to it first. */
    readonly port: number,
  ) {}
  get ports(): readonly number[] {
    return this.more ? [this.port, ...this.more] : [this.port];
  }
  add(chars: number, port: number): void {
    this.count++;
    this.chars += chars;
    if (port !== (this.more ? this.more[this.more.length - 1] : this.port)) (this.more ??= []).push(port);
  }
  /** Its lines, made from its Service ports written again when first read. */
  get rules(): readonly string[] {
    if (this.lines) return this.lines;
    kubeProxyWork.serviceChains++;
    const out: string[] = [];
    // Indexed loops: a trace reads the chains of each Service it enters once, in code too cold to be optimised, where
    // a for-of made an object per line.
    for (let k = 0; k < this.ports.length; k++) {
      const lines = this.source?.(this.ports[k]).rules.get(this.chain) ?? [];
      for (let i = 0; i < lines.length; i++) out.push(lines[i]);
    }
    return (this.lines = out);
  }
}

/**
 * The length of the line `add` writes, newline included, without joining it: `-A `, the chain, then each word and the
 * space or newline after it.
 */
function lineChars(chain: string, args: readonly (string | readonly string[])[]): number {
  return 4 + chain.length + wordsChars(args);
}

/** The characters `words` take in a line, each with the space (or newline) after it. */
function wordsChars(words: readonly (string | readonly string[])[]): number {
  let chars = 0;
  // Indexed loops: asked of every line of 10,000s of Service ports in one generation, largely before it is optimised,
  // where a for-of made an object per word.
  for (let k = 0; k < words.length; k++) {
    const a = words[k];
    if (typeof a === 'string') chars += a.length + 1;
    else for (let i = 0; i < a.length; i++) chars += a[i].length + 1;
  }
  return chars;
}

/**
 * The characters of the words that pick one of n >= 2 remaining endpoints: the same for every n, whose probability
 * 1/n is written as `0.` and 10 digits.
 */
const STATISTIC_CHARS = wordsChars(statistic(2));

/**
 * A Service port's `--dport` words, made once per port number: a skim keeps every Service port's lines as their words
 * (see DeferredRun), and most of a large cluster's 10,000s of ports share a few numbers. Kept for the numbers a port
 * can have, so the module's cache stays bounded whatever the input.
 */
const DPORT = new Map<number, readonly string[]>();
function dport(p: number): readonly string[] {
  let words = DPORT.get(p);
  if (words) return words;
  words = ['--dport', String(p)];
  if (Number.isInteger(p) && p >= 0 && p <= 65535) DPORT.set(p, words);
  return words;
}

/** A protocol's match words (`-m tcp -p tcp`), made once per protocol for the same reason as {@link dport}'s. */
const PROTOCOL_MATCH = new Map<string, readonly string[]>();
function protocolMatch(protocol: string): readonly string[] {
  let words = PROTOCOL_MATCH.get(protocol);
  if (words) return words;
  words = ['-m', protocol, '-p', protocol];
  if (PROTOCOL_MATCH.size < 16) PROTOCOL_MATCH.set(protocol, words);
  return words;
}

/**
 * A Service port's chains named (a SHA-256 each) only when written: most Service ports need no local, external or
 * firewall chain. An object rather than closures: made for each of 10,000s of ports.
 */
class LazyChainNames {
  private svlName: string | undefined;
  private extName: string | undefined;
  private fwName: string | undefined;
  constructor(
    private readonly spn: string,
    private readonly protocol: string,
    /** In a skim: the port's index, whose stand-in names (see {@link standInName}) it gives instead. */
    private readonly standIn: number | undefined,
  ) {}
  private name(prefix: ChainPrefix): string {
    return this.standIn === undefined ? chainHash(prefix, this.spn, this.protocol) : standInName(prefix, this.standIn);
  }
  get svl(): string {
    return (this.svlName ??= this.name('KUBE-SVL-'));
  }
  get ext(): string {
    return (this.extName ??= this.name('KUBE-EXT-'));
  }
  get fw(): string {
    return (this.fwName ??= this.name('KUBE-FW-'));
  }
  /** The firewall chain's own name, for text that is written as it is (a comment names it). */
  get realFw(): string {
    return this.standIn === undefined ? this.fw : chainHash('KUBE-FW-', this.spn, this.protocol);
  }
}

/**
 * A skim names a Service port's chains by stand-ins: the prefix and the port's index in 16 binary digits, as long as
 * the chain's name and never one (a hash is written in A-Z and 2-7), so the skim and the readers of its layout (an
 * index of KUBE-SERVICES asks only whether each jump's chain is declared) need none of the 10,000s of SHA-256s of a
 * large cluster's names. A line's text and a lookup by name have the names made (see {@link realNameOf}).
 */
const STAND_IN_PORTS = 0x10000;
/** The chains of a Service port a skim writes with stand-ins. */
const STAND_IN_PREFIXES: readonly ChainPrefix[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-'];
/** The characters of the shortest stand-in (`KUBE-FW-` and 16 digits). */
const STAND_IN_CHARS = 24;
function standInName(prefix: ChainPrefix, port: number): string {
  return prefix + port.toString(2).padStart(16, '0');
}

/** Whether `name` is a stand-in (see {@link standInName}): its first character after the prefix is a binary digit. */
function isStandIn(name: string): boolean {
  // Asked of every word of a line whose text is made: most are short, none of them a chain's name.
  if (name.length < STAND_IN_CHARS || !isServiceChain(name)) return false;
  const c = name.charCodeAt(name.indexOf('-', 5) + 1);
  return c === 48 || c === 49;
}

/**
 * The characters of the lines by which a skim's Service chain `chain` picks one of `n` endpoint chains: the
 * `-m recent` check of each when `affinity` gives the timeout, then each endpoint's jump, each line with the
 * endpoint's comment when there is one (`commented`: the endpoints and their comment). Each line is a fixed part, the
 * same for every endpoint, and the comment.
 */
function skimmedEndpointRulesChars(
  chain: string,
  n: number,
  affinity: number | undefined,
  commented: { list: readonly Endpoint[]; comment: (ep: Endpoint) => readonly string[] } | undefined,
): number {
  let chars = 0;
  if (affinity !== undefined)
    chars +=
      n *
      lineChars(chain, [
        ['-m', 'recent', '--name', SEP_PLACEHOLDER, '--rcheck', '--seconds', String(affinity), '--reap'],
        ['-j', SEP_PLACEHOLDER],
      ]);
  // Every endpoint's jump; all but the last pick theirs at random (the same length whatever their count).
  chars += n * (4 + chain.length + ENDPOINT_JUMP_CHARS) + (n - 1) * STATISTIC_CHARS;
  // The comment is on both lines of an endpoint with affinity.
  if (commented)
    for (const ep of commented.list) chars += (affinity !== undefined ? 2 : 1) * wordsChars(commented.comment(ep));
  return chars;
}

/** The words a line has after `-A CHAIN`, as written (lists flattened in place when it is joined). */
type LineArgs = readonly (string | readonly string[])[];

/** Service ports being written (a port's lines are counted as written text: see `work.serviceLinesWritten`). */
let servicePortsWriting = 0;

/**
 * The lines Service ports wrote, in a skim, to a chain of the table's own (KUBE-SERVICES, KUBE-NODEPORTS,
 * KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL): kept as each line's words and length, its text joined when read.
 * Every packet crosses KUBE-SERVICES, so a trace looks it up (through its index: the words say where each line goes)
 * and needs its positions, but only a packet to a Service reaches one of these lines (a lint's probes to pods reach
 * none of the 10,000s of a large cluster).
 */
class DeferredRun implements GeneratedRun, DeferredLines {
  count = 0;
  /** Characters of its lines, each with its newline. */
  chars = 0;
  /** Per line: its words and its characters. */
  private readonly words: LineArgs[] = [];
  private readonly lengths: number[] = [];
  private lines: string[] | undefined = undefined;
  constructor(
    readonly chain: string,
    /** The name of each stand-in its words hold (see {@link standInName}). */
    private readonly names: ((standIn: string) => string) | undefined,
  ) {}
  add(args: LineArgs, chars: number): void {
    this.words.push(args);
    this.lengths.push(chars);
    this.count++;
    this.chars += chars;
  }
  argsOf(i: number): LineArgs {
    return this.words[i];
  }
  charsOf(i: number): number {
    return this.lengths[i];
  }
  /** Line `i`, joined when first read (the run's every line once the whole run is). */
  lineAt(i: number): string {
    if (this.lines) return this.lines[i];
    work.serviceLinesWritten++;
    return joinLine(this.chain, this.words[i], this.names);
  }
  get rules(): readonly string[] {
    if (this.lines) return this.lines;
    work.serviceLinesWritten += this.count;
    return (this.lines = this.words.map((args) => joinLine(this.chain, args, this.names)));
  }
}

/**
 * The line `-A CHAIN` and its words, joined once into a flat string: appending word by word made a chain of string
 * pieces that every later reader (the parser, a Map key, the rules text) had to copy out again, at 100,000s of lines
 * per node.
 */
function joinLine(chain: string, args: LineArgs, names?: (standIn: string) => string): string {
  const words = ['-A', chain];
  // Indexed loops: a for-of made an object per word in code a trace runs too seldom to be optimised.
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (typeof a !== 'string') for (let i = 0; i < a.length; i++) words.push(a[i]);
    else words.push(names && isStandIn(a) ? names(a) : a);
  }
  return words.join(' ');
}

/** Rules of one table, kept per chain in write order. */
class TableText {
  readonly chains: string[] = [];
  readonly rules = new Map<string, string[]>();
  /** Chains written by measure (see {@link SERVICE_CHAIN}); only in a table that measures. */
  readonly measured = new Map<string, Measured>();
  /** The Service port being written, when this table measures its Service chains. */
  port: number | undefined;
  /**
   * Whether the Service port being written keeps its lines of the table's own chains unwritten, while no other line is
   * in the chain before them (a skim: see {@link DeferredRun}).
   */
  defers = false;
  /** Those lines, per chain: they come before the chain's written ones. */
  readonly deferred = new Map<string, DeferredRun>();
  /** The name of each stand-in the Service ports' words hold, when they were written with stand-ins (a skim). */
  names: ((standIn: string) => string) | undefined = undefined;
  chain(name: string): void {
    if (this.rules.has(name) || this.measured.has(name)) return;
    this.chains.push(name);
    // A Service chain declared before its lines (endpointRules declares, then writes) is measured from the start.
    if (this.port !== undefined && SERVICE_CHAIN.test(name)) this.measured.set(name, new Measured(name, this.port));
    else this.rules.set(name, []);
  }
  add(chain: string, ...args: (string | readonly string[])[]): void {
    if (this.port !== undefined && isServiceChain(chain)) {
      work.serviceLinesMeasured++;
      this.measure(chain, lineChars(chain, args), this.port);
      return;
    }
    if (this.defers && this.port !== undefined && !this.rules.get(chain)?.length) {
      let run = this.deferred.get(chain);
      if (!run) {
        run = new DeferredRun(chain, this.names);
        this.deferred.set(chain, run);
        if (!this.rules.has(chain)) {
          this.chains.push(chain);
          this.rules.set(chain, []);
        }
      }
      run.add(args, lineChars(chain, args));
      return;
    }
    if (servicePortsWriting) work.serviceLinesWritten++;
    this.push(chain, joinLine(chain, args, this.names));
  }
  push(chain: string, line: string): void {
    let list = this.rules.get(chain);
    if (!list) {
      this.chains.push(chain);
      list = [];
      this.rules.set(chain, list);
    }
    list.push(line);
  }
  /** One line of `chars` characters (newline included) written by Service port `port` to `chain`. */
  measure(chain: string, chars: number, port: number): void {
    let m = this.measured.get(chain);
    if (!m) {
      m = new Measured(chain, port);
      this.measured.set(chain, m);
      // A chain declared before its first line, by a table that did not measure then, moves to the measured ones.
      const list = this.rules.get(chain);
      if (list === undefined) this.chains.push(chain);
      else if (!list.length) this.rules.delete(chain);
    }
    m.add(chars, port);
  }
}

/**
 * The writes of a Service port's rules, three entries each: table 0 (filter) or 1 (nat), the chain, and the line
 * appended to it (undefined: the chain is declared; a number: a measured line of that many characters). One flat list per port, not one small array per write: the
 * first node of a 150,000-endpoint cluster records 600,000 writes, all kept for the nodes after it.
 */
type OpLog = (0 | 1 | string | number | undefined)[];

/** A table that also records what is written to it, to replay it on the next node. */
class RecordingTable extends TableText {
  constructor(
    private readonly target: TableText,
    private readonly id: 0 | 1,
    private readonly log: OpLog,
  ) {
    super();
  }
  override chain(name: string): void {
    this.target.chain(name);
    this.log.push(this.id, name, undefined);
  }
  override push(chain: string, line: string): void {
    this.target.push(chain, line);
    this.log.push(this.id, chain, line);
  }
  override measure(chain: string, chars: number, port: number): void {
    this.target.measure(chain, chars, port);
    this.log.push(this.id, chain, chars);
  }
}

/** What a skim writes in place of an endpoint chain's name: every KUBE-SEP- name is as long (a 16-character hash). */
const SEP_PREFIX = 'KUBE-SEP-' satisfies ChainPrefix;
const SEP_PLACEHOLDER = `${SEP_PREFIX}${'X'.repeat(16)}`;

/** The characters of `-j KUBE-SEP-…` and the space or newline after each word. */
const ENDPOINT_JUMP_CHARS = wordsChars(['-j', SEP_PLACEHOLDER]);

/**
 * The characters of an endpoint chain's two lines in a skim but for the endpoint's address, its `ip:port` and the
 * comment (on both lines): the same for every port of a protocol (and affinity), so counted once per generation, not
 * from the words of each of 10,000s of ports.
 */
function endpointChainChars(proto: readonly string[], affinity: boolean, known: Map<string, number>): number {
  const key = affinity ? `${proto[1]} affinity` : proto[1];
  let chars = known.get(key);
  if (chars !== undefined) return chars;
  chars =
    lineChars(SEP_PLACEHOLDER, ['-s', '', '-j', KUBE_MARK_MASQ]) +
    lineChars(SEP_PLACEHOLDER, [
      affinity ? ['-m', 'recent', '--name', SEP_PLACEHOLDER, '--set'] : NO_WORDS,
      proto,
      '-j',
      'DNAT',
      '--to-destination',
      '',
    ]);
  known.set(key, chars);
  return chars;
}

/** The declarations, lines and characters of one kind of Service chain (KUBE-SVC-, KUBE-SEP-...) in a skim. */
interface ChainKind {
  decls: number;
  declChars: number;
  chars: number;
}

/**
 * A nat table that writes kube-proxy's lines but for its Service chains, which it counts by kind (their prefix)
 * instead: what the table's layout needs before anything is read of it (the length of its declarations and rules,
 * where its other chains fall) without naming a KUBE-SEP- chain per endpoint or sorting 100,000s of names. The
 * endpoint chains are counted per Service port, unnamed, so a skim is only taken when no two Service chains share a
 * name (distinct Service ports and endpoints): each declaration then declares a chain of its own.
 */
class SkimTable extends TableText {
  /** Off: a table like any other (a generation that names every chain, or the lines after the Service ports). */
  skimming = false;
  readonly kinds = new Map<string, ChainKind>();
  /** The Service chains it declared by name (all but the endpoint chains): the port that declared each, its lines. */
  readonly named = new Map<string, SkimmedChain>();
  /** Each Service port's endpoint chains, as {@link endpointChains} was given them. */
  private readonly endpointRuns: {
    readonly port: number;
    readonly each: EachEndpoint;
    readonly fixed: number;
  }[] = [];
  /** How many endpoint chains the runs hold. */
  private endpointCount = 0;
  private listed: SkimmedEndpoints | undefined;
  /**
   * The endpoint chains, in the order declared: made when one is first looked up (a trace entering a Service), not
   * for a reader of the other chains.
   */
  get endpoints(): SkimmedEndpoints {
    if (this.listed) return this.listed;
    const n = this.endpointCount;
    const out: SkimmedEndpoints = { port: new Int32Array(n), chars: new Int32Array(n), text: new Array<string>(n) };
    let i = 0;
    for (const { port, each, fixed } of this.endpointRuns)
      each((ip, text) => {
        out.port[i] = port;
        out.chars[i] = fixed + ip.length + text.length;
        out.text[i++] = text;
      });
    return (this.listed = out);
  }
  private declare(name: string, port: number): SkimmedChain {
    const known = this.named.get(name);
    if (known) return known;
    const c: SkimmedChain = { port, count: 0, chars: 0 };
    this.named.set(name, c);
    const k = kindOf(this.kinds, name);
    k.decls++;
    k.declChars += name.length + 10;
    return c;
  }
  override chain(name: string): void {
    if (this.skimming && this.port !== undefined && SERVICE_CHAIN.test(name)) this.declare(name, this.port);
    else super.chain(name);
  }
  override measure(chain: string, chars: number, port: number): void {
    if (!this.skimming) return super.measure(chain, chars, port);
    // As TableText: a line of a chain not declared yet declares it.
    const c = this.named.get(chain) ?? this.declare(chain, port);
    c.count++;
    c.chars += chars;
    if (chain !== this.kindChain) {
      this.kindChain = chain;
      this.kind = kindOf(this.kinds, chain);
    }
    this.kind.chars += chars;
  }
  /**
   * `count` lines of `chars` characters in all, written by Service port `port` to its chain `chain` (not an endpoint
   * chain): as many calls of {@link measure}, summed by the writer from the lines' lengths instead of word by word.
   */
  measureLines(chain: string, count: number, chars: number, port: number): void {
    const c = this.declare(chain, port);
    c.count += count;
    c.chars += chars;
    kindOf(this.kinds, chain).chars += chars;
  }
  /**
   * Service port `port`'s endpoint chains, one per endpoint `each` visits (`tally.count` of them, distinct: see
   * {@link skimmable}), each declared with its two lines: `fixed` characters and the endpoint's address and `ip:port`
   * (`tally.chars` for all of them). Counted here; the endpoints are visited only for a reader of {@link endpoints}.
   */
  endpointChains(port: number, each: EachEndpoint, tally: EndpointTally, fixed: number): void {
    const n = tally.count;
    if (!n) return;
    this.endpointRuns.push({ port, each, fixed });
    this.endpointCount += n;
    const k = kindOf(this.kinds, SEP_PREFIX);
    k.decls += n;
    k.declChars += n * (SEP_PLACEHOLDER.length + 10);
    k.chars += n * fixed + tally.chars;
  }
  /** The chain whose kind {@link measure} looked up last, and that kind (most lines follow one of their chain). */
  private kindChain = '';
  private kind: ChainKind = { decls: 0, declChars: 0, chars: 0 };
}

/**
 * A skim's endpoint chains, index by index: the Service port that declared each, its two lines' characters, and the
 * endpoint (`ip:port`) it is named after. Arrays rather than an object per chain (150,000 at Kubernetes' limits).
 */
interface SkimmedEndpoints {
  readonly port: Int32Array;
  /**
   * Int32, not Float64: a number read from a Float64Array is a boxed double even when whole, and every position summed
   * from it (rule spans, trace steps) stayed one, a heap object each. Counts of a text's characters fit: a string
   * holds at most 2^29 of them.
   */
  readonly chars: Int32Array;
  readonly text: string[];
}

/** Every endpoint chain has two lines: the masquerade of the endpoint's own traffic, and the DNAT. */
const ENDPOINT_CHAIN_LINES = 2;

/** What a skim knows of one Service chain: the port that wrote it, its lines' count and characters. */
interface SkimmedChain {
  readonly port: number;
  count: number;
  chars: number;
}

/** A Service chain's kind: its prefix (KUBE-SVC-, KUBE-FW-...). */
const prefixOf = (chain: string): string => chain.slice(0, chain.indexOf('-', 5) + 1);

function kindOf(kinds: Map<string, ChainKind>, chain: string): ChainKind {
  const prefix = prefixOf(chain);
  let k = kinds.get(prefix);
  if (!k) kinds.set(prefix, (k = { decls: 0, declChars: 0, chars: 0 }));
  return k;
}

/** Writes a recorded {@link OpLog} again, into this node's tables, as Service port `port` of this node. */
function replay(ops: Readonly<OpLog>, filter: TableText, nat: TableText, port: number): void {
  for (let i = 0; i < ops.length; i += 3) {
    const tt = ops[i] === 0 ? filter : nat;
    const chain = ops[i + 1] as string;
    const line = ops[i + 2] as string | number | undefined;
    if (line === undefined) tt.chain(chain);
    else if (typeof line === 'number') tt.measure(chain, line, port);
    else tt.push(chain, line);
  }
}

/**
 * What one generation can hand to the next (for another node of the same cluster): the lines of each Service port
 * keyed by everything node-specific they depend on (so a node gets the same lines kube-proxy would write there,
 * without building them again), and whole outputs. With a memo, a Service's endpoints are also kept with its input
 * (see ENDPOINTS).
 */
export interface GenerateMemo {
  readonly blocks: WeakMap<ServiceInput, Map<string, Readonly<OpLog>>>;
  /**
   * Whole outputs, per Services list, by everything node-specific they depend on: nodes that kube-proxy treats
   * alike (no local endpoint of a Local-policy Service, the same detector and addresses) share one output.
   */
  readonly outputs: WeakMap<readonly ServiceInput[], Map<string, GeneratedRules>>;
  /**
   * What a node's output depends on, per Services list and family, learnt from the first node generated: so the
   * next node finds its output (the same as an alike node's) without walking every Service and endpoint again.
   */
  readonly nodeKeys: WeakMap<readonly ServiceInput[], Map<number, NodeKeyInput>>;
}

/** The node-independent part of a Services list's output key, and each node's own part (see {@link GenerateMemo}). */
interface NodeKeyInput {
  readonly largeCluster: boolean;
  /** Whether a Service has loadBalancerSourceRanges (its rules then depend on the node's IP). */
  readonly sourceRanges: boolean;
  /** Per node: its endpoints of Services with a Local traffic policy, as `servicePortIndex:ip:port`, in order. */
  readonly localByNode: ReadonlyMap<string, readonly string[]>;
}

export const newGenerateMemo = (): GenerateMemo => ({
  blocks: new WeakMap(),
  outputs: new WeakMap(),
  nodeKeys: new WeakMap(),
});

/**
 * What a skim reads of a Service port's endpoints (see SkimTable): how many there are and the characters of their
 * addresses and `ip:port` texts, counted from the input without an endpoint object or text per endpoint.
 */
interface EndpointTally {
  readonly count: number;
  /** Each endpoint's address and `ip:port` lengths, summed. */
  readonly chars: number;
}

/** The characters of a port number written in decimal. */
const decimalChars = (n: number): number =>
  Number.isInteger(n) && n >= 0 && n < 100000
    ? n < 10
      ? 1
      : n < 100
        ? 2
        : n < 1000
          ? 3
          : n < 10000
            ? 4
            : 5
    : String(n).length;

/**
 * Each port's tally of a Service's endpoints `ofFamily`, when every one of them is ready, with a distinct address
 * written without spaces around it: then categorize takes them all for a Service with no Local traffic policy (the
 * caller's part), and no two share a KUBE-SEP- chain. Undefined otherwise, and the ports' endpoints are listed.
 * `distinct`: the input says the addresses are so (ServiceInput.endpointsDistinct), and they are not looked at again.
 */
function tallyEndpoints(
  ports: readonly ServicePortInput[],
  ofFamily: readonly EndpointInput[],
  family: 4 | 6,
  distinct: boolean,
): EndpointTally[] | undefined {
  const addresses = distinct ? undefined : new Set<string>();
  const counts = new Array<number>(ports.length).fill(0);
  const chars = new Array<number>(ports.length).fill(0);
  // endpointString's `ip:port` has an IPv6 address in brackets.
  const brackets = family === 6 ? 2 : 0;
  // One pass over the endpoints for every check and port: each pass over a large cluster's 150,000 endpoint objects
  // (scattered in the heap) costs as much as the work done on them. Indexed, as it runs mostly before it is optimised.
  for (let i = 0; i < ofFamily.length; i++) {
    const e = ofFamily[i];
    const ip = e.ip;
    if (e.ready === false) return undefined;
    if (addresses) {
      if (ip.trim().length !== ip.length) return undefined;
      const before = addresses.size;
      kubeProxyWork.endpointAddressesHashed++;
      addresses.add(ip);
      if (addresses.size === before) return undefined;
    }
    for (let k = 0; k < ports.length; k++) {
      const p = endpointPort(e, ports[k]);
      if (p === undefined) continue;
      counts[k]++;
      // The address, then endpointString's `ip:port`.
      chars[k] += 2 * ip.length + 1 + decimalChars(p) + brackets;
    }
  }
  return counts.map((count, k) => ({ count, chars: chars[k] }));
}

/** Calls `visit` with each endpoint's address and `ip:port`, in order. */
type EachEndpoint = (visit: (ip: string, text: string) => void) => void;

/** The tally of endpoints listed already. */
function tallyOf(list: readonly Endpoint[]): EndpointTally {
  let chars = 0;
  for (const ep of list) chars += ep.ip.length + ep.text.length;
  return { count: list.length, chars };
}

/**
 * One Service port as a generation writes it. Its endpoints are listed when first read: a skim of a large cluster
 * reads the port's tally instead when it has one (150,000 endpoint objects and texts at Kubernetes' limits).
 */
class ServicePortEntry {
  private listed: readonly Endpoint[] | undefined = undefined;
  constructor(
    readonly svc: ServiceInput,
    readonly port: ServicePortInput,
    readonly clusterIP: string,
    /** The endpoint lists of the Service's ports as every node sees them (`local` false), made when first asked. */
    private readonly lists: () => readonly (readonly Endpoint[])[],
    /** The Service's endpoints of the family, as given. */
    private readonly ofFamily: readonly EndpointInput[],
    private readonly index: number,
    /** The node whose endpoints are local, for a Service with a Local traffic policy (no other reads locality). */
    private readonly localNode: string | undefined,
    readonly tally: EndpointTally | undefined,
  ) {}
  get eps(): readonly Endpoint[] {
    if (this.listed) return this.listed;
    const eps = this.lists()[this.index];
    const node = this.localNode;
    return (this.listed =
      node !== undefined && eps.some((e) => e.node === node)
        ? eps.map((e) => (e.node === node ? { ...e, local: true } : e))
        : eps);
  }
  get count(): number {
    return this.tally ? this.tally.count : this.eps.length;
  }
  /**
   * Visits the endpoints of a tallied port (all of the given ones with a port for it) from the input, without listing
   * them: a trace that looks one endpoint chain up places it among every other, from their `ip:port` texts alone.
   */
  visitTallied(visit: (ip: string, text: string) => void): void {
    for (const e of this.ofFamily) {
      const p = endpointPort(e, this.port);
      if (p !== undefined) visit(e.ip, endpointString(e.ip, p));
    }
  }
  /** Whether two of its endpoints are the same `ip:port` (then they share a KUBE-SEP- chain: see SkimTable). */
  get repeatedEndpoints(): boolean {
    return this.tally ? false : REPEATED_ENDPOINTS.has(this.lists()[this.index]);
  }
}

/**
 * Per Service and family, per port: its endpoints as every node sees them (`local` false; set per node), for the
 * generations given a memo. Kept with the Service's input rather than in one memo: the data planes of one model
 * (the rules', then a trace's) are handed the same inputs (dataplane/kube-proxy.ts) and need not copy its
 * endpoints again (150,000 at Kubernetes' limits).
 */
const ENDPOINTS = new WeakMap<ServiceInput, Map<number, readonly (readonly Endpoint[])[]>>();

/** A Service port's endpoint lists in which an `ip:port` comes twice (odd input). */
const REPEATED_ENDPOINTS = new WeakSet<readonly Endpoint[]>();

function distinctTexts(eps: readonly Endpoint[]): boolean {
  if (eps.length < 2) return true;
  // By address, then port (what the text is made of): the texts were just made, and a set of them would copy each
  // into one piece to hash it (150,000 at Kubernetes' limits) where the addresses are read as they are.
  const portsOf = new Map<string, number | number[]>();
  for (const e of eps) {
    const seen = portsOf.get(e.ip);
    if (seen === undefined) portsOf.set(e.ip, e.port);
    else if (typeof seen === 'number') {
      if (seen === e.port) return false;
      portsOf.set(e.ip, [seen, e.port]);
    } else {
      if (seen.includes(e.port)) return false;
      seen.push(e.port);
    }
  }
  return true;
}

/**
 * The endpoints of each of a Service's ports, of one family (`ofFamily`), as every node sees them (`local` false):
 * made once per Service and family with a memo (see ENDPOINTS).
 */
function endpointLists(
  svc: ServiceInput,
  family: 4 | 6,
  ofFamily: readonly EndpointInput[],
  memo: GenerateMemo | undefined,
): readonly (readonly Endpoint[])[] {
  let perFamily = memo && ENDPOINTS.get(svc);
  if (memo && !perFamily) ENDPOINTS.set(svc, (perFamily = new Map()));
  const known = perFamily?.get(family);
  if (known) return known;
  const lists = svc.ports.map((port) => {
    const eps: Endpoint[] = [];
    for (const e of ofFamily) {
      const ep = endpointPort(e, port);
      if (ep === undefined) continue;
      const ip = e.ip.trim();
      const text = endpointString(ip, ep);
      const ready = e.ready ?? true;
      const serving = e.serving ?? ready;
      const terminating = e.terminating ?? false;
      // Two literals rather than a spread: one allocation each, and every endpoint of a shape. The chain is named
      // when it is first written with its name (a skim writes none: see SkimTable).
      const chain: string | undefined = undefined;
      eps.push(
        e.node !== undefined
          ? { ip, port: ep, local: false, node: e.node, ready, serving, terminating, text, chain }
          : { ip, port: ep, local: false, ready, serving, terminating, text, chain },
      );
    }
    work.endpointsListed += eps.length;
    if (!distinctTexts(eps)) REPEATED_ENDPOINTS.add(eps);
    return eps;
  });
  perFamily?.set(family, lists);
  return lists;
}

/** What {@link categorize} reads of an endpoint. */
export interface CategorizedEndpoint {
  readonly local: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** `ip:port`, which identifies the endpoint. */
  readonly text: string;
}

interface Categorized<E> {
  readonly cluster: readonly E[];
  readonly local: readonly E[];
  readonly all: readonly E[];
  readonly hasAny: boolean;
}

/**
 * proxy.CategorizeEndpoints without topology hints: ready endpoints; when a policy has none, the serving and
 * terminating ones; never an endpoint that is not serving.
 */
export function categorize<E extends CategorizedEndpoint>(
  eps: readonly E[],
  usesCluster: boolean,
  usesLocal: boolean,
): Categorized<E> {
  let cluster: readonly E[] = [];
  let hasAny = false;
  if (usesCluster) {
    // Most endpoints are ready: their list is then the one given (not a copy per Service port).
    cluster = eps.every((e) => e.ready) ? eps : eps.filter((e) => e.ready);
    if (cluster.length === 0) cluster = eps.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocal) return { cluster, local: [], all: cluster, hasAny };
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const e of eps) {
    if (e.ready) {
      hasAny = true;
      if (e.local) hasLocalReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.local) hasLocalServingTerminating = true;
    }
  }
  let local: E[] = [];
  let servingTerminating = false;
  if (hasLocalReady) local = eps.filter((e) => e.local && e.ready);
  else if (hasLocalServingTerminating) {
    servingTerminating = true;
    local = eps.filter((e) => e.local && e.serving && e.terminating);
  }
  if (!usesCluster) return { cluster, local, all: local, hasAny };
  if (!servingTerminating) return { cluster, local, all: cluster, hasAny };
  const all = [...cluster, ...local.filter((l) => !cluster.some((c) => c.text === l.text))];
  return { cluster, local, all, hasAny };
}

function ofFamily(family: 4 | 6, values: readonly string[] | undefined): readonly string[] {
  // Most Service ports have no external or load-balancer IPs: no arrays made for them (10,000s of ports).
  if (!values?.length) return NO_WORDS;
  return values.map((v) => v.trim()).filter((v) => addressFamily(v) === family);
}

function chainOrder(chains: readonly string[], builtins: readonly string[]): string[] {
  const first = [KUBE_NODEPORTS, KUBE_SERVICES].filter((c) => chains.includes(c));
  const rest = chains.filter((c) => !builtins.includes(c) && !first.includes(c)).sort();
  return [...builtins, ...first, ...rest];
}

/** One table of kube-proxy's rules as iptables-save lines: the chain declarations, then the rules, in order. */
export interface GeneratedTable {
  readonly chains: readonly string[];
  readonly rules: readonly string[];
  /** The name each line of `chains` declares, in the same order. */
  readonly names: readonly string[];
  /** `rules` as runs of one chain's lines, in order (the lines placed without being read back). */
  readonly runs: readonly GeneratedRun[];
  /** The same table for a reader that looks its Service chains up by name instead of walking them (none: walk). */
  readonly layout?: ChainLayout;
}

/**
 * One chain's lines in a generated table. A Service's chain knows its lines' count and length (`chars`, newlines
 * included) before their text, which is made when `rules` is first read.
 */
export interface GeneratedRun {
  readonly chain: string;
  readonly rules: readonly string[];
  readonly count?: number;
  readonly chars?: number;
}

/** Work counters of the generator (src/core/work.ts counts the rest): tests check what a trace makes. */
export const kubeProxyWork = {
  /** Service chains whose text was made (read by a trace, the full text or a search). */
  serviceChains: 0,
  /** Service ports written again to make such text. */
  serviceWrites: 0,
  /**
   * Service ports whose chains were written with their names (KUBE-SEP- chains hashed): every port once the nat
   * table's order is needed (its full text, a Service chain entered), one more for a chain's text; none for a
   * reader of the table's other chains.
   */
  servicePortsNamed: 0,
  /**
   * KUBE-SEP- chain names made (a SHA-256 and a string each): those of the ports written with their names. Where a
   * skimmed table's endpoint chain falls is found from every endpoint's hash without naming the others.
   */
  endpointChainsNamed: 0,
  /**
   * Service ports written, whatever for (a skim, a table written with its names, a chain's text): the generator's
   * walk of the cluster's Services is done once per model, not once per data plane (dataplane/kube-proxy.ts).
   */
  servicePortsWritten: 0,
  /** Skimmed tables that bucketed their endpoint chains' keys to place them (once each, at the first lookup). */
  endpointKeyIndexes: 0,
  /**
   * Endpoint addresses a skim put in a set to find two of one Service alike: none of a Service whose input says its
   * addresses are distinct (ServiceInput.endpointsDistinct: the data plane's input, read from the model, does).
   */
  endpointAddressesHashed: 0,
};

/** kube-proxy's filter and nat tables on one node, as lines (rendered to text only when asked). */
export interface GeneratedRules {
  readonly filter: GeneratedTable;
  readonly nat: GeneratedTable;
}

/** The lines of each Service port written again at most once, for all of its chains that are read. */
function writtenOnce(portLines: ((port: number) => TableText) | undefined): (port: number) => TableText {
  const written = new Map<number, TableText>();
  return (port) => {
    let w = written.get(port);
    if (!w) {
      kubeProxyWork.serviceWrites++;
      w = portLines?.(port) ?? new TableText();
      written.set(port, w);
    }
    return w;
  };
}

function tableLines(
  t: TableText,
  builtins: readonly string[],
  portLines?: (port: number) => TableText,
): GeneratedTable {
  const order = chainOrder(t.chains, builtins);
  const runs: GeneratedRun[] = [];
  const writtenLines = writtenOnce(portLines);
  // Where each chain's declaration and lines fall, worked out here from lengths alone (see ChainLayout).
  let declAt = 0;
  let runAt = 0;
  const plainDecls: { name: string; declAt: number }[] = [];
  const plainRuns: { chain: string; rules: readonly string[]; at: number }[] = [];
  // A chain with lines of both kinds (not one kube-proxy writes) is laid out only by walking the runs.
  let mixed = false;
  for (let i = 0; i < order.length; i++) {
    const c = order[i];
    const list = t.rules.get(c);
    const m = t.measured.get(c);
    if (i >= builtins.length) {
      if (m) m.declAt = declAt;
      else plainDecls.push({ name: c, declAt });
      declAt += c.length + 10;
    }
    // The Service ports' lines a skim kept unwritten come first (see DeferredRun); walked, not laid out.
    const deferred = t.deferred.get(c);
    if (deferred?.count) {
      runs.push(deferred);
      runAt += deferred.chars;
      mixed = true;
    }
    if (list?.length) {
      runs.push({ chain: c, rules: list });
      plainRuns.push({ chain: c, rules: list, at: runAt });
      for (const l of list) runAt += l.length + 1;
      if (m) mixed = true;
    }
    // The measured chain is its own run (its counts are final once the table is laid out).
    if (m?.count) {
      m.source = writtenLines;
      m.runAt = runAt;
      runs.push(m);
      runAt += m.chars;
    }
  }
  const measured = t.measured;
  const layout: ChainLayout | undefined =
    mixed || !measured.size
      ? undefined
      : {
          builtins,
          names: order,
          declChars: declAt,
          ruleChars: runAt,
          plainDecls,
          plainRuns,
          find: (name) => measured.get(name),
        };
  // The runs one after the other, made only for a reader that wants one list (most read the runs).
  let rules: string[] | undefined;
  // The declarations likewise: their names say what they are (the built-in chains come first in `order`).
  let chains: string[] | undefined;
  return {
    get chains(): string[] {
      return (chains ??= order.map((c, i) => (i < builtins.length ? `:${c} ACCEPT [0:0]` : `:${c} - [0:0]`)));
    },
    names: order,
    runs,
    layout,
    get rules(): string[] {
      return (rules ??= runs.flatMap((r) => r.rules));
    },
  };
}

const NAT_BUILTINS: readonly string[] = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];

/** Whether the Service ports can be skimmed: no two of them, nor two endpoints of one, share a chain's name. */
function skimmable(servicePorts: readonly ServicePortEntry[]): boolean {
  const seen = new Set<string>();
  for (const { svc, port, repeatedEndpoints } of servicePorts) {
    if (repeatedEndpoints) return false;
    // What the chains' hashes are of (see chainHash).
    const key = servicePortName(svc.namespace, svc.name, port.name) + port.protocol.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return seen.size > 0;
}

/**
 * A skimmed nat table (see {@link SkimTable}) laid out as {@link tableLines} lays out the table with its Service
 * chains named: the built-in chains, KUBE-NODEPORTS and KUBE-SERVICES, then every other chain by name. Each kind
 * of Service chain sorts as one block among the other chains (no other chain's name starts with its prefix, and all
 * its names are the prefix and 16 characters), so where the other chains fall and how long the table is are known
 * from the counts. A Service chain is placed inside its kind's block when one of that kind is first looked up (the
 * endpoint chains named then, the kind's names sorted). Only a reader of every name or line in order (the full
 * text) has the table written with its names (`named`).
 */
function skimmedLines(
  t: SkimTable,
  builtins: readonly string[],
  named: () => GeneratedTable,
  portLines: (port: number, known?: KnownEndpointChain) => TableText,
  endpointKey: (port: number, endpoint: string, out: Float64Array, at: number) => void,
): GeneratedTable {
  let whole: GeneratedTable | undefined;
  const all = (): GeneratedTable => (whole ??= named());
  const first = [KUBE_NODEPORTS, KUBE_SERVICES].filter((c) => t.chains.includes(c));
  const others: { name: string; kind?: ChainKind }[] = [];
  for (const c of t.chains) if (!builtins.includes(c) && !first.includes(c)) others.push({ name: c });
  for (const [prefix, kind] of t.kinds) {
    if (others.some((o) => o.name.startsWith(prefix))) return all();
    others.push({ name: prefix, kind });
  }
  others.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let declAt = 0;
  let runAt = 0;
  const plainDecls: { name: string; declAt: number }[] = [];
  const plainRuns: ChainLayout['plainRuns'][number][] = [];
  /** Where each kind's block of declarations and of lines starts. */
  const blocks = new Map<string, { declAt: number; runAt: number }>();
  const place = (name: string, user: boolean): void => {
    if (user) {
      plainDecls.push({ name, declAt });
      declAt += name.length + 10;
    }
    // The Service ports' lines kept unwritten first (see DeferredRun), placed by their count and length.
    const deferred = t.deferred.get(name);
    if (deferred?.count) {
      plainRuns.push({
        chain: name,
        get rules() {
          return deferred.rules;
        },
        count: deferred.count,
        deferred,
        at: runAt,
      });
      runAt += deferred.chars;
    }
    const list = t.rules.get(name);
    if (!list?.length) return;
    plainRuns.push({ chain: name, rules: list, at: runAt });
    for (const l of list) runAt += l.length + 1;
  };
  for (const b of builtins) place(b, false);
  for (const c of first) place(c, true);
  for (const o of others) {
    if (!o.kind) place(o.name, true);
    else {
      blocks.set(o.name, { declAt, runAt });
      declAt += o.kind.declChars;
      runAt += o.kind.chars;
    }
  }
  // A port's lines written again name its endpoint chains from their order keys: a trace entering a Service has them
  // (its chains are placed by them), and hashing its endpoints again was 8% of a warm trace on 100 nodes.
  const source = writtenOnce((port) => portLines(port, knownEndpointChains(port)));
  const placed = new Map<string, Map<string, Measured>>();
  /** The chains of one kind, named and in order, each where the named table has it. */
  const kind = (prefix: string): Map<string, Measured> => {
    let m = placed.get(prefix);
    if (m) return m;
    m = new Map();
    placed.set(prefix, m);
    const block = blocks.get(prefix);
    if (!block) return m;
    const byName = new Map<string, SkimmedChain>();
    const real = t.names;
    for (const [name, c] of t.named) if (name.startsWith(prefix)) byName.set(real ? real(name) : name, c);
    // The names alone, sorted by the engine's own string order (a compare function costs twice as much at 150,000).
    const names = [...byName.keys()].sort();
    let d = block.declAt;
    let r = block.runAt;
    for (const name of names) {
      const c = byName.get(name);
      if (!c) continue;
      const x = new Measured(name, c.port);
      x.count = c.count;
      x.chars = c.chars;
      x.declAt = d;
      x.runAt = r;
      x.source = source;
      d += name.length + 10;
      r += c.chars;
      m.set(name, x);
    }
    return m;
  };
  /**
   * The endpoint chains' order keys (see chainOrderKey), by which a chain's place among them is found without naming
   * the others. Every endpoint is hashed once (where a chain falls depends on every name before it), but none of the
   * 150,000 names of a cluster at Kubernetes' limits is made.
   */
  let endpointKeys: Float64Array | undefined;
  const keysOfEndpoints = (): Float64Array => {
    if (endpointKeys) return endpointKeys;
    const { port, text } = t.endpoints;
    const n = text.length;
    endpointKeys = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) endpointKey(port[i], text[i], endpointKeys, i);
    return endpointKeys;
  };
  /**
   * The endpoint chains bucketed by the first bits of their keys (a counting sort: two passes, no comparison), about
   * two a bucket, with the chains and characters of the buckets before each. Made at the first lookup: a chain's place
   * is then its bucket's and that of the few keys beside it there that are below its own. A pass over every key per
   * lookup (30 for a Service of 30 endpoints), then a comparison sort of them once many were asked for, made each of
   * the first two warm traces on 100 nodes take 1.7 times as long as the others.
   */
  let endpointBuckets: { divisor: number; start: Int32Array; members: Int32Array; charsBefore: Int32Array } | undefined;
  const bucketsOf = (keys: Float64Array): NonNullable<typeof endpointBuckets> => {
    if (endpointBuckets) return endpointBuckets;
    kubeProxyWork.endpointKeyIndexes++;
    const endpointChars = t.endpoints.chars;
    const n = endpointChars.length;
    // The first key of a pair holds the first 10 hash characters: 50 bits.
    const bits = Math.min(20, Math.max(1, Math.ceil(Math.log2(n / 2 + 1))));
    const divisor = 2 ** (50 - bits);
    const count = 2 ** bits;
    const start = new Int32Array(count + 1);
    const charsBefore = new Int32Array(count + 1);
    for (let i = 0; i < n; i++) {
      const b = Math.floor(keys[2 * i] / divisor);
      start[b + 1]++;
      charsBefore[b + 1] += endpointChars[i];
    }
    for (let b = 0; b < count; b++) {
      start[b + 1] += start[b];
      charsBefore[b + 1] += charsBefore[b];
    }
    // Each bucket's chains in endpoint order: of two with one key, the first is found first (as a stable sort has it).
    const members = new Int32Array(n);
    const next = start.slice(0, count);
    for (let i = 0; i < n; i++) members[next[Math.floor(keys[2 * i] / divisor)]++] = i;
    return (endpointBuckets = { divisor, start, members, charsBefore });
  };
  /** Where the endpoint chain of key (hi, lo) falls: its endpoint, how many chains and characters come before it. */
  const endpointPlace = (hi: number, lo: number): { i: number; before: number; chars: number } | undefined => {
    const keys = keysOfEndpoints();
    const { divisor, start, members, charsBefore } = bucketsOf(keys);
    const b = Math.floor(hi / divisor);
    if (!(b >= 0 && b < start.length - 1)) return undefined;
    let found = -1;
    let before = start[b];
    let chars = charsBefore[b];
    const endpointChars = t.endpoints.chars;
    for (let m = start[b]; m < start[b + 1]; m++) {
      const i = members[m];
      const h = keys[2 * i];
      if (h < hi || (h === hi && keys[2 * i + 1] < lo)) {
        before++;
        chars += endpointChars[i];
      } else if (h === hi && keys[2 * i + 1] === lo && found < 0) found = i;
    }
    return found < 0 ? undefined : { i: found, before, chars };
  };
  /** Where each Service port's endpoint chains start among the skim's (a port's come together), made once. */
  let firstEndpoint: Map<number, number> | undefined;
  const knownEndpointChains = (port: number): KnownEndpointChain => {
    let byEndpoint: Map<string, number> | undefined;
    return (endpoint) => {
      const { port: ports, text } = t.endpoints;
      if (!byEndpoint) {
        if (!firstEndpoint) {
          firstEndpoint = new Map();
          for (let i = 0; i < ports.length; i++) if (!firstEndpoint.has(ports[i])) firstEndpoint.set(ports[i], i);
        }
        byEndpoint = new Map();
        for (let i = firstEndpoint.get(port) ?? ports.length; i < ports.length && ports[i] === port; i++)
          byEndpoint.set(text[i], i);
      }
      const i = byEndpoint.get(endpoint);
      if (i === undefined) return undefined;
      const keys = keysOfEndpoints();
      const name = chainNameOfOrderKey(SEP_PREFIX, keys[2 * i], keys[2 * i + 1]);
      endpointOfName.set(name, i);
      return name;
    };
  };
  /** The endpoint (index) of each endpoint chain named from its key: its key is then not read off its name again. */
  const endpointOfName = new Map<string, number>();
  const endpointChains = new Map<string, Measured>();
  const nameKey = new Float64Array(2);
  /**
   * Whether the skim wrote Service chain `name` (not an endpoint chain): by its stand-in's name, every one of its kind
   * named at the first such question (a reader of a Service's chains, after its line's text; its place among them
   * needs their names too).
   */
  const realNames = new Map<string, Set<string>>();
  const skimmedNamed = (name: string): boolean => {
    const real = t.names;
    if (!real) return t.named.has(name);
    const prefix = prefixOf(name);
    let ofKind = realNames.get(prefix);
    if (!ofKind) {
      realNames.set(prefix, (ofKind = new Set()));
      for (const standIn of t.named.keys()) if (standIn.startsWith(prefix)) ofKind.add(real(standIn));
    }
    return ofKind.has(name);
  };
  const endpointChain = (name: string): Measured | undefined => {
    const known = endpointChains.get(name);
    if (known) return known;
    const block = blocks.get(SEP_PREFIX);
    if (!block) return undefined;
    const i = endpointOfName.get(name);
    if (i !== undefined) {
      const keys = keysOfEndpoints();
      nameKey[0] = keys[2 * i];
      nameKey[1] = keys[2 * i + 1];
    } else if (!chainNameOrderKey(name, SEP_PREFIX, nameKey, 0)) return undefined;
    const place = endpointPlace(nameKey[0], nameKey[1]);
    if (!place) return undefined;
    const x = new Measured(name, t.endpoints.port[place.i]);
    x.count = ENDPOINT_CHAIN_LINES;
    x.chars = t.endpoints.chars[place.i];
    // Every endpoint chain's name is as long (the prefix and 16 characters), so is each declaration before it.
    x.declAt = block.declAt + place.before * (name.length + 10);
    x.runAt = block.runAt + place.chars;
    x.source = source;
    endpointChains.set(name, x);
    return x;
  };
  const layout: ChainLayout = {
    builtins,
    get names(): readonly string[] {
      return all().names;
    },
    declChars: declAt,
    ruleChars: runAt,
    plainDecls,
    plainRuns,
    find(name) {
      if (!SERVICE_CHAIN.test(name)) return undefined;
      // A stand-in is asked for as the chain it stands for (no reader but the index's words has one).
      if (t.names && isStandIn(name)) name = t.names(name);
      if (whole) return whole.layout?.find(name);
      if (name.startsWith(SEP_PREFIX)) return endpointChain(name);
      // A chain the skim named is there; where it falls is worked out only when that is read.
      if (skimmedNamed(name) && !placed.has(prefixOf(name))) {
        const at = (): Measured | undefined => kind(prefixOf(name)).get(name);
        return {
          get declAt() {
            return at()?.declAt ?? 0;
          },
          get runAt() {
            return at()?.runAt ?? 0;
          },
          get count() {
            return at()?.count ?? 0;
          },
          get rules() {
            return at()?.rules ?? NO_WORDS;
          },
          readWhole: true,
        };
      }
      return kind(prefixOf(name)).get(name);
    },
    // As `find(name) !== undefined`: a chain the skim named has a place in its kind's block (every kind has one).
    has(name) {
      if (!SERVICE_CHAIN.test(name)) return false;
      // A jump's chain as an index of KUBE-SERVICES reads it off the skim's words: declared, with no name made.
      if (t.names && isStandIn(name)) return t.named.has(name);
      if (whole) return whole.layout?.find(name) !== undefined;
      return name.startsWith(SEP_PREFIX) ? endpointChain(name) !== undefined : skimmedNamed(name);
    },
  };
  return {
    get chains() {
      return all().chains;
    },
    get rules() {
      return all().rules;
    },
    get names() {
      return all().names;
    },
    get runs() {
      return all().runs;
    },
    layout,
  };
}

function renderTable(table: string, t: GeneratedTable): string {
  return [`*${table}`, ...t.chains, ...t.rules, 'COMMIT'].join('\n');
}

/**
 * The iptables-save text of the filter and nat tables kube-proxy writes on `input.nodeName`. Pass one `names`
 * memo when generating for many nodes: the chain hashes are the same on every node.
 */
export function generateKubeProxyRules(input: KubeProxyInput, memo?: GenerateMemo): string {
  const g = generateKubeProxyTables(input, memo);
  return `${renderTable('filter', g.filter)}\n${renderTable('nat', g.nat)}\n`;
}

/**
 * The lines of {@link generateKubeProxyRules}, table by table. With a memo, the lines of a Service port are the
 * same string objects on every node that writes them alike (so a parse memo finds them at once).
 */
export function generateKubeProxyTables(input: KubeProxyInput, memo?: GenerateMemo): GeneratedRules {
  const family = input.family ?? 4;
  const isV6 = family === 6;
  const markValue = (1 << (input.masqueradeBit ?? 14)) >>> 0;
  const mark = `0x${markValue.toString(16)}`;
  const nodeIP = ofFamily(family, input.nodeIPs)[0];
  const filter = new TableText();
  const nat = new SkimTable();

  // Local traffic detector.
  const det = input.localDetector;
  let ifLocal: string[] | undefined;
  let ifNotLocal: string[] | undefined;
  if (det.mode === 'ClusterCIDR' || det.mode === 'NodeCIDR') {
    const cidr = det.cidrs.map((c) => parseAddressOrPrefix(c.trim())).find((p) => p?.family === family);
    if (cidr) {
      ifLocal = ['-s', canonical(cidr)];
      ifNotLocal = ['!', '-s', canonical(cidr)];
    }
  } else if (det.mode === 'BridgeInterface') {
    ifLocal = ['-i', det.interface];
    ifNotLocal = ['!', '-i', det.interface];
  } else if (det.mode === 'InterfaceNamePrefix') {
    ifLocal = ['-i', `${det.prefix}+`];
    ifNotLocal = ['!', '-i', `${det.prefix}+`];
  }

  // NodePort addresses.
  const npCidrs = (input.nodePortAddresses ?? [])
    .map((c) => c.trim())
    .flatMap((c) => (c === 'primary' ? (nodeIP ? [nodeIP] : []) : [c]))
    .map((c) => parseAddressOrPrefix(c))
    .filter((p): p is NonNullable<typeof p> => p?.family === family);
  const matchAll = npCidrs.length === 0 || npCidrs.some((p) => p.length === 0);
  const loopback4 = literalAddress('127.0.0.1');
  const localhostNodePorts =
    !isV6 &&
    (input.localhostNodePorts ?? true) &&
    (matchAll || npCidrs.some((p) => prefixContainsAddress(p, loopback4)));

  // A node alike to one generated before (everything its output depends on is the same) gets that output at once,
  // without walking the cluster's Services and endpoints, nor writing the node's own chains again (a trace compiles
  // the rules of each node it crosses): generating N nodes is not N times the cluster's work.
  const nodeKey = (k: NodeKeyInput): string =>
    [
      `${family}|${ifLocal?.join(' ')}|${input.masqueradeAll}|${localhostNodePorts}|${input.nfacct}|${k.largeCluster}`,
      mark,
      input.masqueradeRandomFully,
      input.conntrackTCPLiberal,
      matchAll ? '' : `${npCidrs.map(canonical).join(',')}|${ofFamily(family, input.nodeIPs).join(',')}`,
      k.sourceRanges ? nodeIP : '',
      (k.localByNode.get(input.nodeName) ?? []).join(','),
    ].join('\n');
  const known = memo?.nodeKeys.get(input.services)?.get(family);
  const fastKey = known ? nodeKey(known) : undefined;
  if (fastKey !== undefined) {
    const done = memo?.outputs.get(input.services)?.get(`node:${fastKey}`);
    if (done) return done;
  }

  // Top-level chains, in kube-proxy's order.
  for (const c of [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
    KUBE_FIREWALL,
  ])
    filter.chain(c);
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) nat.chain(c);

  // Jumps from the built-in chains (kubelet's KUBE-FIREWALL first, then kube-proxy's, each prepended).
  const jumps: [table: TableText, from: string, to: string, comment: string, extra: string[]][] = [
    [filter, 'INPUT', KUBE_FIREWALL, '', []],
    [filter, 'OUTPUT', KUBE_FIREWALL, '', []],
    [
      filter,
      'INPUT',
      KUBE_EXTERNAL_SERVICES,
      'kubernetes externally-visible service portals',
      ['-m', 'conntrack', '--ctstate', 'NEW'],
    ],
    [
      filter,
      'FORWARD',
      KUBE_EXTERNAL_SERVICES,
      'kubernetes externally-visible service portals',
      ['-m', 'conntrack', '--ctstate', 'NEW'],
    ],
    [filter, 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports', []],
    [filter, 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
    [filter, 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
    [filter, 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules', []],
    [
      filter,
      'INPUT',
      KUBE_PROXY_FIREWALL,
      'kubernetes load balancer firewall',
      ['-m', 'conntrack', '--ctstate', 'NEW'],
    ],
    [
      filter,
      'OUTPUT',
      KUBE_PROXY_FIREWALL,
      'kubernetes load balancer firewall',
      ['-m', 'conntrack', '--ctstate', 'NEW'],
    ],
    [
      filter,
      'FORWARD',
      KUBE_PROXY_FIREWALL,
      'kubernetes load balancer firewall',
      ['-m', 'conntrack', '--ctstate', 'NEW'],
    ],
    [nat, 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', []],
    [nat, 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals', []],
    [nat, 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules', []],
  ];
  const builtinRules = new Map<TableText, Map<string, string[]>>([
    [filter, new Map()],
    [nat, new Map()],
  ]);
  for (const [table, from, to, comment, extra] of jumps) {
    let m = builtinRules.get(table);
    if (!m) builtinRules.set(table, (m = new Map()));
    const list = m.get(from) ?? [];
    const args = [...extra, ...(comment ? ['-m', 'comment', '--comment', q(comment)] : []), '-j', to];
    list.unshift(['-A', from, ...args].join(' '));
    m.set(from, list);
  }

  // KUBE-POSTROUTING and KUBE-MARK-MASQ.
  nat.add(KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  nat.add(KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  nat.add(
    KUBE_POSTROUTING,
    '-m',
    'comment',
    '--comment',
    q('kubernetes service traffic requiring SNAT'),
    '-j',
    'MASQUERADE',
    ...(input.masqueradeRandomFully ? ['--random-fully'] : []),
  );
  nat.add(KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  if (localhostNodePorts) {
    filter.add(
      KUBE_FIREWALL,
      '-m',
      'comment',
      '--comment',
      q('block incoming localnet connections'),
      '-d',
      '127.0.0.0/8',
      '!',
      '-s',
      '127.0.0.0/8',
      '-m',
      'conntrack',
      '!',
      '--ctstate',
      'RELATED,ESTABLISHED,DNAT',
      '-j',
      'DROP',
    );
  }

  // Endpoints per service port, and large-cluster mode.
  const servicePorts: ServicePortEntry[] = [];
  // The first generation for these Services skims them (see SkimTable), and may read tallies instead of endpoints.
  const firstForServices = !memo?.outputs.get(input.services)?.size;
  // Indexed loops over the Services and their ports: once per generation (10,000s), where a for-of made an object per
  // step (and `entries()` an array per port).
  const services = input.services;
  for (let s = 0; s < services.length; s++) {
    const svc = services[s];
    const clusterIP = (svc.clusterIP ?? '').trim();
    if (clusterIP === '' || clusterIP === 'None' || addressFamily(clusterIP) !== family) continue;
    // The endpoints of this family, read once for all the Service's ports.
    const ofThisFamily =
      svc.endpointsFamily === undefined
        ? svc.endpoints.filter((e) => addressFamily(e.ip) === family)
        : svc.endpointsFamily === family
          ? svc.endpoints
          : [];
    let lists: readonly (readonly Endpoint[])[] | undefined;
    const listsOf = (): readonly (readonly Endpoint[])[] => (lists ??= endpointLists(svc, family, ofThisFamily, memo));
    const localPolicy = svc.internalTrafficPolicy === 'Local' || svc.externalTrafficPolicy === 'Local';
    const tallies =
      firstForServices && !localPolicy
        ? tallyEndpoints(svc.ports, ofThisFamily, family, svc.endpointsFamily === family && !!svc.endpointsDistinct)
        : undefined;
    svc.ports.forEach((port, i) => {
      servicePorts.push(
        new ServicePortEntry(
          svc,
          port,
          clusterIP,
          listsOf,
          ofThisFamily,
          i,
          localPolicy ? input.nodeName : undefined,
          tallies?.[i],
        ),
      );
    });
  }
  const largeCluster = servicePorts.reduce((n, sp) => n + sp.count, 0) > LARGE_CLUSTER_ENDPOINTS;
  // The comment's text is made only when it is written: a large cluster writes none, for 100,000s of endpoint lines.
  const svcComment = (spn: string, endpoint?: string): readonly string[] =>
    largeCluster ? NO_WORDS : ['-m', 'comment', '--comment', q(endpoint === undefined ? spn : `${spn} -> ${endpoint}`)];

  /** What {@link endpointChainChars} counted, per protocol and affinity. */
  const endpointChainCharsKnown = new Map<string, number>();
  /** Writes Service port `sp`'s lines (its lines written out as text are counted: see `work.serviceLinesWritten`). */
  const writeServicePort = (
    sp: ServicePortEntry,
    nat: TableText,
    filter: TableText,
    knownEndpointChain?: KnownEndpointChain,
  ): void => {
    servicePortsWriting++;
    try {
      writeServicePortLines(sp, nat, filter, knownEndpointChain);
    } finally {
      servicePortsWriting--;
    }
  };
  const writeServicePortLines = (
    sp: ServicePortEntry,
    nat: TableText,
    filter: TableText,
    knownEndpointChain?: KnownEndpointChain,
  ): void => {
    const { svc, port, clusterIP } = sp;
    kubeProxyWork.servicePortsWritten++;
    const spn = servicePortName(svc.namespace, svc.name, port.name);
    const protocol = port.protocol.toLowerCase();
    // A skim counts the endpoint chains without naming them (150,000 SHA-256s at Kubernetes' limits), and writes the
    // port's own chains with stand-ins for their names (see standInName).
    const skim = nat instanceof SkimTable && nat.skimming;
    if (!skim) kubeProxyWork.servicePortsNamed++;
    const standIn = skim && nat.names ? nat.port : undefined;
    const svcChain = standIn === undefined ? chainHash('KUBE-SVC-', spn, protocol) : standInName('KUBE-SVC-', standIn);
    const names = new LazyChainNames(spn, protocol, standIn);
    const externalIPs = ofFamily(family, svc.externalIPs);
    const lbIPs = svc.loadBalancerIPs?.length ? ofFamily(family, vipLoadBalancerIPs(svc)) : NO_WORDS;
    const sourceRanges = svc.loadBalancerSourceRanges?.length
      ? svc.loadBalancerSourceRanges
          .map((r) => parseAddressOrPrefix(r.trim()))
          .filter((p): p is NonNullable<typeof p> => p?.family === family)
      : NO_RANGES;
    const nodePort = port.nodePort ?? 0;
    const externallyAccessible = nodePort !== 0 || lbIPs.length > 0 || externalIPs.length > 0;
    const internalLocal = svc.internalTrafficPolicy === 'Local';
    const externalLocal = externallyAccessible && svc.externalTrafficPolicy === 'Local';
    const usesCluster = !internalLocal || externallyAccessible;
    const usesLocal = internalLocal || externalLocal;
    // A skim of a large cluster (no endpoint comments) counts a port's endpoints from its tally when it has one:
    // categorize would take them all (see tallyEndpoints), so none is listed.
    const tally = skim && largeCluster ? sp.tally : undefined;
    const sorted = tally ? undefined : categorize(sp.eps, usesCluster, usesLocal);
    const clusterCount = sorted ? sorted.cluster.length : (tally?.count ?? 0);
    const localCount = sorted ? sorted.local.length : 0;
    const hasAny = sorted ? sorted.hasAny : clusterCount > 0;

    const usesClusterChain = clusterCount > 0 && usesCluster;
    const usesLocalChain = localCount > 0 && usesLocal;
    const internalChain = internalLocal ? names.svl : svcChain;
    const hasInternal = internalLocal ? hasAny && localCount > 0 : hasAny;
    const externalPolicyChain = externalLocal ? names.svl : svcChain;
    const hasExternal = externalLocal ? hasAny && localCount > 0 : hasAny;
    const usesExtChain = hasAny && externallyAccessible;
    const usesFW = hasAny && lbIPs.length > 0 && sourceRanges.length > 0;

    let internalFilterTarget = '';
    let internalFilterComment = '';
    let externalFilterTarget = '';
    let externalFilterComment = '';
    if (!hasAny) {
      internalFilterTarget = externalFilterTarget = 'REJECT';
      internalFilterComment = externalFilterComment = q(`${spn} has no endpoints`);
    } else {
      if (!hasInternal) {
        internalFilterTarget = 'DROP';
        internalFilterComment = q(`${spn} has no local endpoints`);
      }
      if (!hasExternal) {
        externalFilterTarget = 'DROP';
        externalFilterComment = q(`${spn} has no local endpoints`);
      }
    }
    const proto = protocolMatch(protocol);

    // Capture the cluster IP. Its comment is the masquerade line's too: made once per port (10,000s of them).
    const clusterIPComment = hasInternal ? q(`${spn} cluster IP`) : '';
    if (hasInternal)
      nat.add(
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        clusterIPComment,
        proto,
        '-d',
        clusterIP,
        dport(port.port),
        '-j',
        internalChain,
      );
    else
      filter.add(
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        internalFilterComment,
        proto,
        '-d',
        clusterIP,
        dport(port.port),
        '-j',
        internalFilterTarget,
      );

    // External IPs. Indexed loops: most ports have none, and a for-of made an iterator even then (10,000s of ports).
    for (let i = 0; i < externalIPs.length; i++) {
      const ip = externalIPs[i];
      if (hasAny)
        nat.add(
          KUBE_SERVICES,
          '-m',
          'comment',
          '--comment',
          q(`${spn} external IP`),
          proto,
          '-d',
          ip,
          dport(port.port),
          '-j',
          names.ext,
        );
      if (!hasExternal)
        filter.add(
          KUBE_EXTERNAL_SERVICES,
          '-m',
          'comment',
          '--comment',
          externalFilterComment,
          proto,
          '-d',
          ip,
          dport(port.port),
          '-j',
          externalFilterTarget,
        );
    }

    // Load-balancer IPs.
    for (let i = 0; i < lbIPs.length; i++) {
      const ip = lbIPs[i];
      if (hasAny)
        nat.add(
          KUBE_SERVICES,
          '-m',
          'comment',
          '--comment',
          q(`${spn} loadbalancer IP`),
          proto,
          '-d',
          ip,
          dport(port.port),
          '-j',
          usesFW ? names.fw : names.ext,
        );
      if (usesFW)
        filter.add(
          KUBE_PROXY_FIREWALL,
          '-m',
          'comment',
          '--comment',
          q(`${spn} traffic not accepted by ${names.realFw}`),
          proto,
          '-d',
          ip,
          dport(port.port),
          '-j',
          'DROP',
        );
    }
    if (!hasExternal) {
      for (let i = 0; i < lbIPs.length; i++)
        filter.add(
          KUBE_EXTERNAL_SERVICES,
          '-m',
          'comment',
          '--comment',
          externalFilterComment,
          proto,
          '-d',
          lbIPs[i],
          dport(port.port),
          '-j',
          externalFilterTarget,
        );
    }

    // NodePort.
    if (nodePort !== 0) {
      if (hasAny) {
        if (localhostNodePorts && input.nfacct) {
          nat.add(
            KUBE_NODEPORTS,
            '-m',
            'comment',
            '--comment',
            q(spn),
            proto,
            '-d',
            '127.0.0.0/8',
            dport(nodePort),
            '-m',
            'nfacct',
            '--nfacct-name',
            'localhost_nps_accepted_pkts',
            '-j',
            names.ext,
          );
        }
        nat.add(KUBE_NODEPORTS, '-m', 'comment', '--comment', q(spn), proto, dport(nodePort), '-j', names.ext);
      }
      if (!hasExternal) {
        filter.add(
          KUBE_EXTERNAL_SERVICES,
          '-m',
          'comment',
          '--comment',
          externalFilterComment,
          '-m',
          'addrtype',
          '--dst-type',
          'LOCAL',
          proto,
          dport(nodePort),
          '-j',
          externalFilterTarget,
        );
      }
    }

    // Health check NodePort.
    if (svc.healthCheckNodePort) {
      filter.add(
        KUBE_NODEPORTS,
        '-m',
        'comment',
        '--comment',
        q(`${spn} health check node port`),
        '-m',
        'tcp',
        '-p',
        'tcp',
        dport(svc.healthCheckNodePort),
        '-j',
        'ACCEPT',
      );
    }

    // Internal traffic: masquerade off-cluster (or all) traffic to the cluster IP.
    // The protocol and port words as lists, flattened when the line is joined: no list of the line's words made for
    // a line that a skim only measures (one per Service port).
    if (hasInternal && (input.masqueradeAll || ifNotLocal))
      nat.add(
        internalChain,
        '-m',
        'comment',
        '--comment',
        clusterIPComment,
        proto,
        '-d',
        clusterIP,
        dport(port.port),
        input.masqueradeAll ? NO_WORDS : (ifNotLocal ?? NO_WORDS),
        '-j',
        KUBE_MARK_MASQ,
      );

    // External traffic.
    if (usesExtChain) {
      nat.chain(names.ext);
      if (!externalLocal) {
        nat.add(
          names.ext,
          '-m',
          'comment',
          '--comment',
          q(`masquerade traffic for ${spn} external destinations`),
          '-j',
          KUBE_MARK_MASQ,
        );
      } else {
        if (ifLocal)
          nat.add(
            names.ext,
            '-m',
            'comment',
            '--comment',
            q(`pod traffic for ${spn} external destinations`),
            ifLocal,
            '-j',
            svcChain,
          );
        nat.add(
          names.ext,
          '-m',
          'comment',
          '--comment',
          q(`masquerade LOCAL traffic for ${spn} external destinations`),
          '-m',
          'addrtype',
          '--src-type',
          'LOCAL',
          '-j',
          KUBE_MARK_MASQ,
        );
        nat.add(
          names.ext,
          '-m',
          'comment',
          '--comment',
          q(`route LOCAL traffic for ${spn} external destinations`),
          '-m',
          'addrtype',
          '--src-type',
          'LOCAL',
          '-j',
          svcChain,
        );
      }
      if (hasExternal) nat.add(names.ext, '-j', externalPolicyChain);
    }

    // Firewall chain for loadBalancerSourceRanges.
    if (usesFW) {
      nat.chain(names.fw);
      const args = ['-m', 'comment', '--comment', q(`${spn} loadbalancer IP`)];
      let allowFromNode = false;
      const node = nodeIP ? parseAddress(nodeIP) : undefined;
      for (const cidr of sourceRanges) {
        nat.add(names.fw, args, '-s', canonical(cidr), '-j', names.ext);
        if (node && prefixContainsAddress(cidr, node)) allowFromNode = true;
      }
      if (allowFromNode) for (const ip of lbIPs) nat.add(names.fw, args, '-s', ip, '-j', names.ext);
      nat.add(
        names.fw,
        '-m',
        'comment',
        '--comment',
        q(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`),
      );
    }

    const affinity = svc.sessionAffinity === 'ClientIP';
    const timeout = svc.sessionAffinityTimeoutSeconds ?? 10800;
    if (skim) {
      // The endpoints' lines counted from their lengths (150,000 endpoints at Kubernetes' limits, three lines each):
      // each line is a fixed part, the same for the port's every endpoint, and the endpoint's own words.
      const k = nat.port ?? 0;
      const affinityTimeout = affinity ? timeout : undefined;
      // A large cluster writes no endpoint's comment: nothing to read of its endpoints for their jumps (and no
      // function made per port to read it).
      const commented = largeCluster
        ? () => undefined
        : (list: readonly Endpoint[]) => ({ list, comment: (ep: Endpoint) => svcComment(spn, ep.text) });
      const perEndpoint = affinity ? 2 : 1;
      if (usesClusterChain) {
        nat.chain(svcChain);
        const chars = skimmedEndpointRulesChars(
          svcChain,
          clusterCount,
          affinityTimeout,
          sorted && commented(sorted.cluster),
        );
        nat.measureLines(svcChain, perEndpoint * clusterCount, chars, k);
      }
      if (usesLocalChain) {
        nat.chain(names.svl);
        const chars = skimmedEndpointRulesChars(
          names.svl,
          localCount,
          affinityTimeout,
          sorted && commented(sorted.local),
        );
        nat.measureLines(names.svl, perEndpoint * localCount, chars, k);
      }
      // Each endpoint chain's two lines, but for the endpoint's address and `ip:port` (a placeholder of no length).
      const fixed = endpointChainChars(proto, affinity, endpointChainCharsKnown) + 2 * wordsChars(svcComment(spn));
      // Listed only when a trace looks an endpoint chain up: a tallied port's endpoints are all of them.
      if (sorted)
        nat.endpointChains(
          k,
          (visit) => {
            for (const ep of sorted.all) visit(ep.ip, ep.text);
          },
          tallyOf(sorted.all),
          fixed,
        );
      else if (tally) nat.endpointChains(k, (visit) => sp.visitTallied(visit), tally, fixed);
      return;
    }
    // Only a skim reads a tally: every other writing has the port's endpoints sorted.
    const { cluster, local, all } = sorted ?? categorize(sp.eps, usesCluster, usesLocal);
    const sep = (ep: Endpoint): string => sepChainOf(ep, spn, protocol, knownEndpointChain);
    const endpointRules = (chain: string, list: readonly Endpoint[]): void => {
      nat.chain(chain);
      if (affinity) {
        for (const ep of list) {
          nat.add(
            chain,
            svcComment(spn, ep.text),
            '-m',
            'recent',
            '--name',
            sep(ep),
            '--rcheck',
            '--seconds',
            String(timeout),
            '--reap',
            '-j',
            sep(ep),
          );
        }
      }
      list.forEach((ep, i) => {
        const stat = i < list.length - 1 ? statistic(list.length - i) : NO_WORDS;
        nat.add(chain, svcComment(spn, ep.text), stat, '-j', sep(ep));
      });
    };
    if (usesClusterChain) endpointRules(svcChain, cluster);
    if (usesLocalChain) endpointRules(names.svl, local);

    for (const ep of all) {
      const chain = sep(ep);
      nat.chain(chain);
      nat.add(chain, svcComment(spn), '-s', ep.ip, '-j', KUBE_MARK_MASQ);
      nat.add(
        chain,
        svcComment(spn),
        affinity ? ['-m', 'recent', '--name', chain, '--set'] : NO_WORDS,
        proto,
        '-j',
        'DNAT',
        '--to-destination',
        ep.text,
      );
    }
  };

  // What a Service port's lines depend on besides the Service itself: replay them when all of it is the same.
  const common = `${family}|${ifLocal?.join(' ')}|${input.masqueradeAll}|${localhostNodePorts}|${input.nfacct}|${largeCluster}`;
  // Made only for a generation that replays ports or looks for an output: a skim (the first for these Services) does
  // neither, and has 10,000s of ports at Kubernetes' limits.
  let portKeys: string[] | undefined;
  const keys = (): string[] =>
    (portKeys ??= servicePorts.map((sp) => {
      const local = sp.svc.internalTrafficPolicy === 'Local' || sp.svc.externalTrafficPolicy === 'Local';
      return `${sp.port.name}|${sp.port.protocol}|${common}|${sp.svc.loadBalancerSourceRanges?.length ? nodeIP : ''}|${
        local
          ? sp.eps
              .filter((e) => e.local)
              .map((e) => e.text)
              .join(',')
          : ''
      }`;
    }));
  /**
   * The chain a skim's stand-in stands for (see standInName): its port's chain of the stand-in's prefix, named once
   * (the lines' text, the layout's sorted names and its lookups by name all ask).
   */
  const realNames = new Map<string, string>();
  const realNameOf = (standIn: string): string => {
    let name = realNames.get(standIn);
    if (name !== undefined) return name;
    const prefix = STAND_IN_PREFIXES.find((p) => standIn.startsWith(p));
    const sp = prefix && servicePorts[parseInt(standIn.slice(prefix.length), 2)];
    name =
      prefix && sp
        ? chainHash(
            prefix,
            servicePortName(sp.svc.namespace, sp.svc.name, sp.port.name),
            sp.port.protocol.toLowerCase(),
          )
        : standIn;
    realNames.set(standIn, name);
    return name;
  };
  let byServices = memo?.outputs.get(input.services);
  if (memo && !byServices) memo.outputs.set(input.services, (byServices = new Map()));
  // Everything else the output depends on: when it is all the same as on a node done before, so are the lines. The
  // first generation for these Services has no output to find, and keeps its own under its node's key (which says the
  // same of the node: see nodeKey).
  const whole = byServices?.size
    ? [
        common,
        mark,
        input.masqueradeRandomFully,
        input.conntrackTCPLiberal,
        matchAll ? '' : `${npCidrs.map(canonical).join(',')}|${ofFamily(family, input.nodeIPs).join(',')}`,
        ...keys(),
      ].join('\n')
    : undefined;
  let learnt = known;
  if (memo && !learnt) {
    const localByNode = new Map<string, string[]>();
    servicePorts.forEach((sp, k) => {
      if (sp.svc.internalTrafficPolicy !== 'Local' && sp.svc.externalTrafficPolicy !== 'Local') return;
      for (const e of sp.eps) {
        if (e.node === undefined) continue;
        const l = localByNode.get(e.node);
        if (l) l.push(`${k}:${e.text}`);
        else localByNode.set(e.node, [`${k}:${e.text}`]);
      }
    });
    learnt = {
      largeCluster,
      sourceRanges: servicePorts.some((sp) => (sp.svc.loadBalancerSourceRanges?.length ?? 0) > 0),
      localByNode,
    };
    let perFamily = memo.nodeKeys.get(input.services);
    if (!perFamily) memo.nodeKeys.set(input.services, (perFamily = new Map()));
    perFamily.set(family, learnt);
  }
  const ownKey = learnt ? `node:${nodeKey(learnt)}` : undefined;
  const done = whole !== undefined ? byServices?.get(whole) : undefined;
  if (done) {
    if (ownKey !== undefined) byServices?.set(ownKey, done);
    return done;
  }
  // The first generation for these Services skims their ports (see SkimTable); a node with other lines after it
  // writes them with their names, kept for the nodes after it.
  nat.skimming = !byServices?.size && skimmable(servicePorts);
  // Its Service ports' chains are written with stand-ins for their names (see standInName), made when read.
  nat.names = nat.skimming && servicePorts.length <= STAND_IN_PORTS ? realNameOf : undefined;
  // A skim keeps the Service ports' lines of the tables' own chains unwritten (see DeferredRun).
  nat.defers = filter.defers = nat.skimming;
  for (let k = 0; k < servicePorts.length; k++) {
    const sp = servicePorts[k];
    nat.port = k;
    if (nat.skimming) {
      filter.port = k;
      writeServicePort(sp, nat, filter);
      continue;
    }
    const perService = memo?.blocks.get(sp.svc) ?? new Map<string, Readonly<OpLog>>();
    if (memo && !memo.blocks.has(sp.svc)) memo.blocks.set(sp.svc, perService);
    const key = keys()[k];
    const ops = memo ? perService.get(key) : undefined;
    // The Service chains this port declares and writes are measured (see Measured), whichever way they are written.
    nat.port = k;
    if (ops) {
      replay(ops, filter, nat, k);
      continue;
    }
    if (!memo) {
      writeServicePort(sp, nat, filter);
      continue;
    }
    const log: OpLog = [];
    const recording = new RecordingTable(nat, 1, log);
    recording.port = k;
    writeServicePort(sp, recording, new RecordingTable(filter, 0, log));
    perService.set(key, log);
  }
  nat.port = filter.port = undefined;
  nat.defers = filter.defers = false;
  /** Service port `k`'s lines, written again (its Service chains' text, when one is read). */
  const portLines = (k: number, knownEndpointChain?: KnownEndpointChain): TableText => {
    const natAgain = new TableText();
    const sp = servicePorts[k];
    if (sp) writeServicePort(sp, natAgain, new TableText(), knownEndpointChain);
    return natAgain;
  };

  // Last rule of KUBE-SERVICES: hand local destinations to KUBE-NODEPORTS.
  const npComment = q('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (matchAll) {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    if (isV6) dest.push('!', '-d', '::1/128');
    else if (!localhostNodePorts) dest.push('!', '-d', '127.0.0.0/8');
    nat.add(KUBE_SERVICES, '-m', 'comment', '--comment', npComment, dest, '-j', KUBE_NODEPORTS);
  } else {
    const candidates = [...ofFamily(family, input.nodeIPs), isV6 ? '::1' : '127.0.0.1'];
    const seen = new Set<string>();
    for (const ip of candidates) {
      const a = parseAddress(ip);
      if (!a || seen.has(ip) || !npCidrs.some((p) => prefixContainsAddress(p, a))) continue;
      seen.add(ip);
      const loopback = isV6 ? ip === '::1' : ip.startsWith('127.');
      if (loopback && (isV6 || !localhostNodePorts)) continue;
      nat.add(KUBE_SERVICES, '-m', 'comment', '--comment', npComment, '-d', ip, '-j', KUBE_NODEPORTS);
    }
  }

  // KUBE-FORWARD.
  if (!input.conntrackTCPLiberal) {
    filter.add(
      KUBE_FORWARD,
      '-m',
      'conntrack',
      '--ctstate',
      'INVALID',
      ...(input.nfacct ? ['-m', 'nfacct', '--nfacct-name', 'ct_state_invalid_dropped_pkts'] : []),
      '-j',
      'DROP',
    );
  }
  filter.add(
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    q('kubernetes forwarding rules'),
    '-m',
    'mark',
    '--mark',
    `${mark}/${mark}`,
    '-j',
    'ACCEPT',
  );
  filter.add(
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    q('kubernetes forwarding conntrack rule'),
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  );

  for (const [table, m] of builtinRules) {
    for (const [from, list] of m) {
      table.chain(from);
      for (const line of list) table.push(from, line);
    }
  }
  let hashedPort = -1;
  let hashInput = '';
  /** The nat table with every Service chain written and named: what a skimmed table hands its readers of those. */
  const named = (): GeneratedTable => {
    const full = new TableText();
    const scratch = new TableText();
    for (let k = 0; k < servicePorts.length; k++) {
      full.port = k;
      writeServicePort(servicePorts[k], full, scratch);
    }
    full.port = undefined;
    // The other chains' lines are the skim's (the same lines, and those written after the Service ports), after the
    // Service ports' lines the skim kept unwritten (written here).
    for (const c of nat.chains) {
      const list = nat.rules.get(c);
      if (!list) continue;
      if (!full.rules.has(c) && !full.measured.has(c)) full.chains.push(c);
      full.rules.set(c, nat.deferred.has(c) ? [...(full.rules.get(c) ?? []), ...list] : list);
    }
    return tableLines(full, NAT_BUILTINS, portLines);
  };
  const out: GeneratedRules = {
    filter: tableLines(filter, ['INPUT', 'FORWARD', 'OUTPUT']),
    nat: nat.skimming
      ? skimmedLines(nat, NAT_BUILTINS, named, portLines, (k, endpoint, keys, at) => {
          // What the port's endpoint chains' hashes start with, made once per port (its endpoints come together).
          if (k !== hashedPort) {
            const sp = servicePorts[k];
            hashedPort = k;
            hashInput = sp
              ? chainHashInput(servicePortName(sp.svc.namespace, sp.svc.name, sp.port.name), sp.port.protocol)
              : '';
          }
          chainOrderKey(hashInput, endpoint, keys, at);
        })
      : tableLines(nat, NAT_BUILTINS, portLines),
  };
  if (whole !== undefined) byServices?.set(whole, out);
  if (ownKey !== undefined) byServices?.set(ownKey, out);
  return out;
}

function parseAddressOrPrefix(text: string): Prefix | undefined {
  if (text.includes('/')) return parsePrefix(text);
  const a = parseAddress(text);
  return a ? hostPrefix(a) : undefined;
}

export function endpointPort(e: EndpointInput, port: ServicePortInput): number | undefined {
  const p = e.ports[port.name];
  if (p !== undefined) return p > 0 ? p : undefined;
  return typeof port.targetPort === 'number' && port.targetPort > 0 ? port.targetPort : undefined;
}
