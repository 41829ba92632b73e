/**
 * One rule's words after `-A CHAIN`: general matches, match modules with their options (`matches/`), the target with
 * its options (`targets/`). Problems are reported and recorded on the rule (`Rule.unsupported`).
 */
import { problem, type Problem, type Span } from '../problem';
import { finishModule, GENERAL, MODULE_OPTIONS, parseGeneral } from './matches';
import type { ModuleUse, Opt } from './options';
import { finishTarget, TARGET_OPTIONS } from './targets';
import type { Token } from './tokenize';
import type { Match, Rule, TableName, Target } from './types';

export const SYNTAX = 'iptables.syntax';
export const UNSUPPORTED = 'iptables.unsupported';

type Item = { readonly kind: 'match'; readonly match: Match } | { readonly kind: 'module'; readonly module: ModuleUse };

export function parseRuleBody(
  table: TableName,
  chain: string,
  text: string,
  ruleSpan: Span,
  tokens: readonly Token[],
  tspan: (a: Token, b?: Token) => Span,
  problems: Problem[],
): Rule {
  const unsupported: string[] = [];
  const items: Item[] = [];
  const modules: ModuleUse[] = [];
  let target: Target = { kind: 'none' };
  let targetName: string | undefined;
  let targetSpan: Span | undefined;
  const targetOpts: Opt[] = [];

  const syntax = (message: string, sp: Span): void => {
    problems.push(problem(SYNTAX, 'error', message, sp));
    unsupported.push(message);
  };
  const unsup = (message: string, sp: Span): void => {
    problems.push(problem(UNSUPPORTED, 'warning', message, sp));
    unsupported.push(message);
  };

  let i = 0;
  let negStart: Token | undefined;
  const take = (n: number, opt: Token): Token[] | undefined => {
    const vals = tokens.slice(i + 1, i + 1 + n);
    if (vals.length < n || vals.some(isOptionLike)) {
      syntax(`Option '${opt.value}' needs ${n === 1 ? 'a value' : `${n} values`}.`, tspan(opt));
      return undefined;
    }
    return vals;
  };

  while (i < tokens.length) {
    const tok = tokens[i];
    const v = tok.value;
    if (v === '!') {
      if (negStart) syntax("Double '!'.", tspan(tok));
      negStart = tok;
      i++;
      continue;
    }
    const neg = negStart !== undefined;
    const from = negStart ?? tok;
    negStart = undefined;
    // General options.
    const general = GENERAL[v];
    if (general) {
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      const sp = tspan(from, vals[0]);
      const m = parseGeneral(general, vals[0].value, neg, sp, syntax, unsup);
      if (m) {
        items.push({ kind: 'match', match: m });
        if (
          m.kind === 'protocol' &&
          !neg &&
          MODULE_OPTIONS[m.protocol] &&
          !modules.some((x) => x.name === m.protocol)
        ) {
          // `-p tcp` loads the tcp match implicitly, so `--dport` works without `-m tcp`.
          const mod: ModuleUse = { name: m.protocol, span: sp, implicit: true, opts: [] };
          modules.push(mod);
          items.push({ kind: 'module', module: mod });
        }
      }
      i += 2;
      continue;
    }
    if (v === '-m' || v === '--match') {
      if (neg) syntax("'!' cannot negate '-m'.", tspan(from));
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      const name = vals[0].value;
      const existing = modules.find((x) => x.name === name && x.implicit);
      if (existing) {
        // `-m tcp -p tcp` / `-p tcp -m tcp`: one module.
        modules.splice(modules.indexOf(existing), 1);
      }
      const mod: ModuleUse = { name, span: tspan(tok, vals[0]), implicit: false, opts: existing ? existing.opts : [] };
      if (!MODULE_OPTIONS[name]) unsup(`Match module '${name}' is not supported.`, mod.span);
      modules.push(mod);
      if (existing) {
        const idx = items.findIndex((it) => it.kind === 'module' && it.module === existing);
        items[idx] = { kind: 'module', module: mod };
      } else {
        items.push({ kind: 'module', module: mod });
      }
      i += 2;
      continue;
    }
    if (v === '-j' || v === '--jump' || v === '-g' || v === '--goto') {
      if (neg) syntax(`'!' cannot negate '${v}'.`, tspan(from));
      const vals = take(1, tok);
      if (!vals) {
        i++;
        continue;
      }
      if (targetName !== undefined) syntax('A rule can have only one target.', tspan(tok, vals[0]));
      targetName = vals[0].value;
      targetSpan = tspan(tok, vals[0]);
      if (v === '-g' || v === '--goto') {
        target = { kind: 'goto', chain: targetName };
      } else if (!TARGET_OPTIONS[targetName]) {
        target = { kind: 'jump', chain: targetName };
      }
      i += 2;
      continue;
    }
    if (v.startsWith('--')) {
      // After -j an option of the target wins; otherwise the latest loaded module that knows it owns it.
      const tOpts = targetName !== undefined ? TARGET_OPTIONS[targetName] : undefined;
      const mod =
        tOpts?.[v] !== undefined
          ? undefined
          : [...modules].reverse().find((m) => MODULE_OPTIONS[m.name]?.[v] !== undefined);
      const arity = mod ? MODULE_OPTIONS[mod.name][v] : tOpts?.[v];
      if (arity === undefined) {
        // Unknown option: take the words up to the next option.
        let n = 0;
        while (tokens[i + 1 + n] && !isOptionLike(tokens[i + 1 + n])) n++;
        const last = tokens[i + n] ?? tok;
        const unknownModule = modules.some((m) => !MODULE_OPTIONS[m.name]);
        const unknownTarget = targetName !== undefined && !tOpts;
        // Options of unknown modules and targets are covered by the problem about the module or target.
        if (!unknownModule && !unknownTarget) {
          unsup(`Option '${v}' is not supported${targetName ? ` by target ${targetName}` : ''}.`, tspan(from, last));
        } else if (!unknownModule) {
          unsupported.push(`Option '${v}' of target ${targetName}.`);
        }
        i += 1 + n;
        continue;
      }
      const vals = arity === 0 ? [] : take(arity, tok);
      if (!vals) {
        i++;
        continue;
      }
      const opt: Opt = { name: v, values: vals, negated: neg, span: tspan(from, vals[vals.length - 1] ?? tok) };
      if (mod) mod.opts.push(opt);
      else targetOpts.push(opt);
      i += 1 + arity;
      continue;
    }
    syntax(`Unexpected '${v}'.`, tspan(tok));
    i++;
  }
  if (negStart) syntax("'!' at the end of the rule.", tspan(negStart));

  // Finish modules into matches, in order of appearance.
  const matches: Match[] = [];
  for (const it of items) {
    if (it.kind === 'match') matches.push(it.match);
    else matches.push(...finishModule(it.module, syntax, unsup));
  }

  if (targetName !== undefined && targetSpan && TARGET_OPTIONS[targetName] && target.kind === 'none') {
    const t = finishTarget(table, targetName, targetOpts, targetSpan, syntax, unsup);
    if (t) target = t;
  }
  return { table, chain, text, span: ruleSpan, matches, target, targetSpan, unsupported };
}

/** Whether a word is an option or `!` rather than a value (quoted words are always values). */
function isOptionLike(t: Token): boolean {
  return !t.quoted && (t.value === '!' || (t.value.startsWith('-') && t.value.length > 1 && !/^-\d/.test(t.value)));
}
