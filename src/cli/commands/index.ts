/**
 * Every command of the `netpath` CLI, listed once. Adding one (`trace`, `schema`, `lab`, `verify`): write
 * `commands/<name>.ts` exporting a `Command` and add it to this table; `--help` lists it by itself.
 */
import type { Command } from '../command';
import { lab } from './lab';
import { lint } from './lint';
import { reach } from './reach';
import { rules } from './rules';
import { trace } from './trace';
import { verify } from './verify';

export const COMMANDS: readonly Command[] = [lint, rules, trace, reach, lab, verify];
