/** The CLI's file access: the shared Node file host (src/lab/files.ts), with argument errors as usage errors. */
import {
  expandArguments as expand,
  FileArgumentError,
  loadEntries as load,
  oneTopology as one,
  readOnceHost,
  topologiesOf as topologies,
  type ArgumentOptions,
} from '../lab/files';
import type { FileHost, LoadResult, ParsedFile, Problem, SourceFile, TopologyGroup } from '../core';
import { CliError, type CliIO } from './command';
import { formatText } from './format';
import { displayPath } from '../lab/files';
import { VERSION } from './version';

export { displayPath, nodeFileHost, readOnceHost } from '../lab/files';

function usage<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}

async function usageAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}

/** {@link expand}, with an unreadable argument reported as a CliError (exit 2). */
export function expandArguments(args: readonly string[], cwd: string): Promise<string[]> {
  return usageAsync(() => expand(args, cwd));
}

/**
 * The topologies the arguments hold, grouped as the editor groups them; an unreadable file is a CliError, and
 * symbolic links in folders that lead outside the workspace or to nothing are added to `problems`.
 */
export function topologiesOf(
  args: readonly string[],
  cwd: string,
  options: ArgumentOptions = {},
  problems: Problem[] = [],
  files?: FileHost,
): Promise<TopologyGroup[]> {
  return usageAsync(() => topologies(args, cwd, options, problems, files));
}

/** The one topology the arguments hold; several are a CliError naming them. */
export function oneTopology(groups: readonly TopologyGroup[], cwd: string): TopologyGroup {
  return usage(() => one(groups, cwd));
}

/** One topology's files, confined to the command line's workspace; an unreadable entry is a CliError. */
export function loadEntries(
  entries: readonly string[],
  args: readonly string[],
  cwd: string,
  options: ArgumentOptions = {},
  files?: FileHost,
): Promise<LoadResult> {
  return usageAsync(() => load(entries, args, cwd, options, files));
}

/** One topology's files, and how to analyse them without parsing again what loading parsed. */
export interface LoadedTopology extends LoadResult {
  /** The analysis's parse (`analyse(files, { parse })`): a file loading looked into for includes is not parsed twice. */
  readonly parse: (file: SourceFile) => ParsedFile;
}

/**
 * The one topology the arguments hold, read as lint reads it: confined to the command line's workspace, files over
 * the size limit and links in folders that lead out left out, and each thing refused or left out (it changes the
 * topology) printed on stderr as `netpath <command>: file:line:col severity code message`.
 */
export async function loadOneTopology(
  command: string,
  args: readonly string[],
  io: Pick<CliIO, 'cwd' | 'err'>,
  options: ArgumentOptions = {},
): Promise<LoadedTopology> {
  const links: Problem[] = [];
  const files = readOnceHost();
  const { entries } = oneTopology(await topologiesOf(args, io.cwd, options, links, files), io.cwd);
  const loaded = await loadEntries(entries, args, io.cwd, options, files);
  const refused = [...links, ...loaded.problems];
  if (refused.length)
    io.err(
      formatText({
        diagnostics: refused,
        texts: new Map(loaded.files.map((f) => [f.path, f.text])),
        display: (file) => displayPath(file, io.cwd),
        version: VERSION,
        codes: [],
      })
        .trimEnd()
        .split('\n')
        .slice(0, -1)
        .map((l) => `netpath ${command}: ${l}\n`)
        .join(''),
    );
  return { ...loaded, parse: files.takeParsed };
}
