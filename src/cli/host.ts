/** The CLI's file access: the shared Node file host (src/lab/files.ts), with argument errors as usage errors. */
import {
  expandArguments as expand,
  FileArgumentError,
  oneTopology as one,
  topologiesOf as topologies,
} from '../lab/files';
import type { TopologyGroup } from '../core';
import { CliError } from './command';

export { displayPath, nodeFileHost } from '../lab/files';

/** {@link expand}, with an unreadable argument reported as a CliError (exit 2). */
export async function expandArguments(args: readonly string[], cwd: string): Promise<string[]> {
  try {
    return await expand(args, cwd);
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}

/** The topologies the arguments hold, grouped as the editor groups them; an unreadable file is a CliError. */
export async function topologiesOf(args: readonly string[], cwd: string): Promise<TopologyGroup[]> {
  try {
    return await topologies(args, cwd);
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}

/** The one topology the arguments hold; several are a CliError naming them. */
export function oneTopology(groups: readonly TopologyGroup[], cwd: string): TopologyGroup {
  try {
    return one(groups, cwd);
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}
