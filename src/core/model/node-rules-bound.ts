/**
 * The bound on a node's own rules (`iptables:` and `nftables:` text written in a NetPath document). Every packet a
 * trace sends through the node walks them, once per branch, so a hostile or generated text of millions of rules would
 * make every trace and rule probe slow. Rules past the bound are blanked (replaced by spaces, so every offset and span
 * of the rest stays where it was) and one `node.too-many-rules` warning points at the first rule left out.
 */
import type { Span } from '../problem';
import type { Drafts } from './drafts';

/**
 * A node's own rules NetPath reads at most. A host firewall or a CNI's own chains hold hundreds to a few thousand
 * rules; 50,000 is past any node's own text, while a packet's walk through a chain stays linear and short.
 */
export const MAX_NODE_RULES = 50000;

/** An iptables-save rule line: appended or inserted. */
const IPTABLES_RULE = /^(-A|-I|--append|--insert)\s/;
/** An nft script's rule command (`add rule ip t c ...`). */
const NFT_RULE_COMMAND = /^(add|insert|replace)\s+rule\s/;
/** Lines of a chain body that are no rule: its base-chain declaration, policy, comment, devices. */
const NFT_CHAIN_PROPERTY = /^(type\s|policy\s|comment\s|devices\s|\}|$)/;

const balanced = (line: string): boolean => {
  let depth = 0;
  for (const c of line) {
    if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return depth === 0;
};

/**
 * Which lines of a node's text are rules: iptables-save's `-A`/`-I` lines, or nft's one-line rules inside a
 * `chain … {` body and its `add rule` commands. A rule spread over several lines (an anonymous set written out) is
 * never counted or cut, so what stays is always whole.
 */
function ruleLines(text: string, dialect: 'iptables' | 'nftables'): number[] {
  const out: number[] = [];
  const lines = text.split('\n');
  let inChain = false;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (dialect === 'iptables') {
      if (IPTABLES_RULE.test(line)) out.push(i);
      return;
    }
    if (/^chain\s+\S+\s*\{$/.test(line)) inChain = true;
    else if (inChain && line === '}') inChain = false;
    else if (!balanced(line))
      inChain = false; // A construct spread over lines: no cut inside it, or after it.
    else if ((inChain && !NFT_CHAIN_PROPERTY.test(line) && !line.startsWith('#')) || NFT_RULE_COMMAND.test(line))
      out.push(i);
  });
  return out;
}

/**
 * `text` (a node's `iptables:` or `nftables:` block scalar, read from `span` of its file) with the rules past
 * {@link MAX_NODE_RULES} blanked, reporting the cut at the first rule left out.
 */
export function boundNodeRules(
  b: Pick<Drafts, 'report' | 'texts'>,
  node: string,
  dialect: 'iptables' | 'nftables',
  text: string,
  span: Span,
): string {
  const rules = ruleLines(text, dialect);
  if (rules.length <= MAX_NODE_RULES) return text;
  const lines = text.split('\n');
  const first = lines[rules[MAX_NODE_RULES]];
  // The block scalar's lines are in the file as written after their indentation: find the first one left out there.
  const fileText = b.texts.get(span.file);
  let at = -1;
  if (fileText !== undefined) {
    let cursor = span.start;
    for (let i = 0; i <= rules[MAX_NODE_RULES]; i++) {
      const l = lines[i].replace(/\r$/, '').trim();
      if (!l) continue;
      const found = fileText.indexOf(l, cursor);
      if (found < 0 || found >= span.end) break;
      cursor = found + l.length;
      if (i === rules[MAX_NODE_RULES]) at = found;
    }
  }
  b.report(
    'node.too-many-rules',
    'warning',
    `Node ${node} has ${rules.length} rules of its own in its ${dialect} text: NetPath reads the first ${MAX_NODE_RULES}; the ${rules.length - MAX_NODE_RULES} after them (from here on) are left out.`,
    at >= 0 ? { file: span.file, start: at, end: at + first.trim().length } : span,
  );
  for (const i of rules.slice(MAX_NODE_RULES)) lines[i] = ' '.repeat(lines[i].length);
  return lines.join('\n');
}
