/**
 * Hook evaluations kept for the sibling packets they answer, per node filter, whatever the backend: the endpoint paths
 * of a Service cross the same hooks of a node with packets that differ only in their destination and devices, which
 * the rules rarely tell apart (see `SiblingQuestion` in src/core/netfilter/evaluate.ts). A backend keys an evaluation
 * by everything its rules read but those fields, and keeps with it how to tell whether a sibling gets the same answers.
 */
import type { FilterOutcome, FilterPacket, FilterResult } from './filter';

/** How many evaluations of one kind of packet are kept (siblings the rules tell apart), and of how many kinds. */
const SIBLING_ANSWERS_PER_KEY = 8;
const SIBLING_KEYS = 4096;

/** An evaluation kept, with whether a sibling packet and its context get every answer it got. */
interface Kept<C> {
  readonly answersAlike: (sibling: FilterPacket, ctx: C) => boolean;
  readonly result: FilterResult;
}

/**
 * An outcome's packet as a sibling's: the sibling's packet (its destination and devices, which the rules read only
 * through the questions and never write: a DNAT answers no sibling) with what the rules write kept (the mark, a
 * source NAT's address and port). This runs for every sibling outcome: one literal, with the fields in the order the
 * walk writes a hook's packet (src/core/trace/walk.ts, runHook), so both are one shape to the code reading them.
 */
function asSibling(outcome: FilterPacket, sibling: FilterPacket): FilterPacket {
  return {
    family: sibling.family,
    proto: sibling.proto,
    src: outcome.src,
    dst: sibling.dst,
    mark: outcome.mark,
    sport: outcome.sport,
    dport: sibling.dport,
    inIface: sibling.inIface,
    outIface: sibling.outIface,
    bridged: sibling.bridged,
    bridgeFrame: sibling.bridgeFrame,
    netdevIngress: sibling.netdevIngress,
  };
}

/** The evaluations a node's filter keeps for siblings; `C` is the context its backend evaluates with. */
export class SiblingAnswers<C> {
  private readonly kept = new Map<string, Kept<C>[]>();

  /** The result of a kept evaluation that answers `packet` (undefined: none does, or `key` is undefined). */
  answer(key: string | undefined, packet: FilterPacket, ctx: C): FilterResult | undefined {
    const list = key === undefined ? undefined : this.kept.get(key);
    if (list)
      for (let k = 0; k < list.length; k++) {
        const a = list[k];
        if (a.answersAlike(packet, ctx)) {
          // A loop, not a map and its closure: most of a trace's hooks are answered here.
          const kept = a.result.outcomes;
          const outcomes = new Array<FilterOutcome>(kept.length);
          for (let i = 0; i < kept.length; i++) {
            const o = kept[i];
            const p = o.packet;
            outcomes[i] = {
              probability: o.probability,
              verdict: o.verdict,
              // The sibling's own packet when the rules wrote none of its fields (most hooks): asSibling would copy it.
              packet:
                p.src === packet.src && p.mark === packet.mark && p.sport === packet.sport
                  ? packet
                  : asSibling(p, packet),
              nat: o.nat,
              decisions: o.decisions,
              problems: o.problems,
            };
          }
          return { outcomes };
        }
      }
    return undefined;
  }

  /** Keeps an evaluation of the packets of `key` for the siblings `answersAlike` says it answers. */
  keep(key: string, answersAlike: Kept<C>['answersAlike'], result: FilterResult): void {
    const list = this.kept.get(key);
    if (!list && this.kept.size >= SIBLING_KEYS) this.kept.clear();
    const entry: Kept<C> = { answersAlike, result };
    if (!list) this.kept.set(key, [entry]);
    else if (list.length < SIBLING_ANSWERS_PER_KEY) list.push(entry);
  }
}
