/**
 * The file system for the core, over node:fs and tinyglobby, and the expansion of folder arguments into
 * the YAML files under them. Paths given to the core are absolute POSIX paths. Shared by the CLI and the lab
 * (the lab must not import the CLI; the CLI wraps {@link FileArgumentError} into its usage error).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_MAX_FILE_BYTES,
  groupTopologies,
  FOLDER_FILE_HEAD_BYTES,
  isFolderFile,
  isInside,
  loadTopologyFiles,
  ParsedOnce,
  type FileHost,
  type LoadResult,
  type ParsedFile,
  type SourceFile,
  type Problem,
  type TopologyGroup,
} from '../core';

// tinyglobby's ESM build (through fdir) calls createRequire(import.meta.url), which is empty in the CommonJS
// bundle esbuild writes to dist/cli.js; require() makes esbuild pick the CommonJS builds instead.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glob } = require('tinyglobby') as typeof import('tinyglobby');

const toPosix = (p: string) => p.split(path.sep).join('/');

export const nodeFileHost: FileHost = {
  async readFile(p) {
    // Regular files only: a device (/dev/urandom) or a FIFO never ends.
    let handle;
    try {
      handle = await fs.open(p, 'r');
      if (!(await handle.stat()).isFile()) return undefined;
      // The bytes, then one decode: `readFile('utf8')` decodes chunk by chunk into a string of pieces that the first
      // search of it (is it a NetPath document?) copied out again, 30 MB for a cluster dump.
      return (await handle.readFile()).toString('utf8');
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  },
  async glob(baseDir, pattern) {
    const found = await glob(pattern, {
      cwd: baseDir,
      absolute: true,
      onlyFiles: true,
      // Links are not followed (a linked folder may lead out of the workspace); name a linked file to read it.
      followSymbolicLinks: false,
      ignore: ['**/node_modules/**', '**/.git/**'],
    });
    return found.map(toPosix).sort();
  },
  realPath: (p, roots) => confinedRealPath(p, roots),
  async size(p) {
    try {
      const st = await fs.stat(p);
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * Where `p` really is, symbolic links followed one component at a time like the kernel does, without looking at
 * anything outside `roots` but the roots' own parent folders: once the walk leaves them it stops and returns the
 * path it reached (outside, so the caller refuses it), so a refusal never depends on what is out there.
 */
export async function confinedRealPath(p: string, roots: readonly string[]): Promise<string> {
  const inside = (q: string) =>
    roots.some((r) => q === r || r === '/' || q.startsWith(`${r}/`) || r.startsWith(`${q}/`));
  const rest = p.split('/').filter(Boolean);
  let cur = '/';
  let links = 0;
  while (rest.length) {
    const part = rest.shift() ?? '';
    if (part === '.') continue;
    if (part === '..') {
      cur = path.posix.dirname(cur);
      continue;
    }
    const next = path.posix.join(cur, part);
    if (!inside(next)) return path.posix.join(next, ...rest);
    let st;
    try {
      st = await fs.lstat(next);
    } catch {
      return path.posix.join(next, ...rest);
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) return ''; // a loop: '' is inside no root, so it is refused
      const target = await fs.readlink(next);
      rest.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) cur = '/';
      continue;
    }
    cur = next;
  }
  return cur;
}

/** A file or folder argument that cannot be read (the CLI reports it as a usage error, exit 2). */
export class FileArgumentError extends Error {}

const SKIP = new Set(['node_modules', '.git']);

/** A symbolic link in a folder argument that leads outside the workspace: reported, not followed. */
export const LINK_OUTSIDE = 'link.outside-workspace';
/** A symbolic link in a folder argument, inside the workspace, that leads to no file or folder. */
export const LINK_BROKEN = 'link.broken';

/** What a folder walk needs: the workspace, where to report links, the real folders already walked (loops). */
interface Walk {
  readonly roots: readonly string[];
  readonly problems: Problem[];
  readonly walked: Set<string>;
}

async function yamlFilesUnder(dir: string, out: string[], walk: Walk): Promise<void> {
  try {
    walk.walked.add(await fs.realpath(dir));
  } catch {
    // A folder that vanished while it was walked: readdir below says so.
  }
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) await yamlFilesUnder(p, out, walk);
    } else if (e.isFile()) {
      if (await isReadFile(e.name, p)) out.push(p);
    } else if (e.isSymbolicLink()) await followLink(p, e.name, out, walk);
  }
}

/**
 * A symbolic link met in a folder argument. Where it leads is found without looking outside the workspace
 * ({@link confinedRealPath}): outside, it is refused with one message whether or not its target exists; inside, a
 * folder is walked (once: a link back to a folder already walked adds nothing) and a YAML file is read under the
 * link's name; a link to nothing inside the workspace is said, not skipped.
 */
async function followLink(p: string, name: string, out: string[], walk: Walk): Promise<void> {
  const span = { file: toPosix(p), start: 0, end: 0 };
  const real = await confinedRealPath(toPosix(p), walk.roots);
  if (!walk.roots.some((r) => isInside(real, r))) {
    walk.problems.push({
      code: LINK_OUTSIDE,
      severity: 'error',
      message: `symbolic link '${name}' leads outside the workspace: NetPath did not follow it (a repository could otherwise read any file of this machine into its diagnostics). Give its target on the command line, or widen the workspace on purpose with --allow-outside <folder>.`,
      span,
      related: [],
      fixes: [],
    });
    return;
  }
  let st;
  try {
    st = await fs.stat(real);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) {
    if (!SKIP.has(name) && !walk.walked.has(await fs.realpath(real))) await yamlFilesUnder(p, out, walk);
  } else if (st?.isFile()) {
    if (await isReadFile(name, p)) out.push(p);
  } else
    walk.problems.push({
      code: LINK_BROKEN,
      severity: 'warning',
      message: `symbolic link '${name}' leads to ${st ? 'something that is neither a file nor a folder' : 'nothing'}: NetPath did not read it.`,
      span,
      related: [],
      fixes: [],
    });
}

/**
 * The files of a walk, each real file once: a file reached both directly and through a linked folder (or through
 * two links) would otherwise be read twice and every object in it reported as a duplicate of itself. The path kept
 * is the first one without a link in it, else the first one found.
 */
async function oncePerRealFile(files: readonly string[]): Promise<string[]> {
  const byReal = new Map<string, string>();
  const direct = new Set<string>();
  for (const f of files) {
    const real = await fs.realpath(f).catch(() => f);
    const isDirect = real === f;
    const kept = byReal.get(real);
    if (kept === undefined || (isDirect && !direct.has(real))) byReal.set(real, f);
    if (isDirect) direct.add(real);
  }
  const keep = new Set(byReal.values());
  return files.filter((f) => keep.has(f));
}

/** Whether a folder walk reads a file ({@link isFolderFile}): the head of a .json or .conf file is read for it. */
async function isReadFile(name: string, p: string): Promise<boolean> {
  if (!/\.(json|conf)$/i.test(name)) return isFolderFile(name, () => '');
  let handle;
  try {
    handle = await fs.open(p, 'r');
    const buffer = Buffer.alloc(FOLDER_FILE_HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return isFolderFile(name, () => buffer.toString('utf8', 0, bytesRead));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/**
 * The absolute paths of the files to lint: files as given, folders expanded to every *.yaml/*.yml under them
 * and every .json file that holds a Kubernetes object or list (`kubectl get -o json`), every CNI configuration
 * (`*.conflist`, and `.conf`/`.json` files with a `cniVersion`), skipping node_modules
 * and .git. A missing argument or a folder without YAML is a
 * {@link FileArgumentError}.
 */
export async function expandArguments(
  args: readonly string[],
  cwd: string,
  options: ExpandOptions = {},
): Promise<string[]> {
  return [...new Set((await expandEach(args, cwd, options)).flat())];
}

export interface ExpandOptions {
  /** The workspace symbolic links in folders are confined to (default: {@link workspaceRoots} of the arguments). */
  readonly roots?: readonly string[];
  /** Where links that lead outside the workspace or to nothing are reported ({@link LINK_OUTSIDE}, {@link LINK_BROKEN}). */
  readonly problems?: Problem[];
}

/** {@link expandArguments}, one list per argument (in the order given), for grouping files into topologies. */
export async function expandEach(
  args: readonly string[],
  cwd: string,
  options: ExpandOptions = {},
): Promise<string[][]> {
  const walk: Walk = {
    roots: options.roots ?? (await workspaceRoots(args, cwd)),
    problems: options.problems ?? [],
    walked: new Set(),
  };
  const out: string[][] = [];
  for (const arg of args) {
    const files: string[] = [];
    const abs = path.resolve(cwd, arg);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch {
      throw new FileArgumentError(`cannot read '${arg}': no such file or folder`);
    }
    if (stat.isDirectory()) {
      const found: string[] = [];
      const reported = walk.problems.length;
      await yamlFilesUnder(abs, found, walk);
      // A folder whose only YAML is behind refused or broken links says so through those problems.
      if (!found.length && walk.problems.length === reported)
        throw new FileArgumentError(`no .yaml, .yml or Kubernetes .json files in folder '${arg}'`);
      files.push(...(await oncePerRealFile(found)));
    } else if (!stat.isFile()) {
      // A device (/dev/urandom), a FIFO or a socket never ends or blocks: only regular files are read.
      throw new FileArgumentError(`cannot read '${arg}': not a regular file or folder`);
    } else {
      try {
        await fs.access(abs, fs.constants.R_OK);
      } catch {
        throw new FileArgumentError(`cannot read '${arg}': permission denied`);
      }
      files.push(abs);
    }
    out.push(files.map(toPosix));
  }
  return out;
}

/** How a file is shown: relative to the working directory when it is inside it, else absolute. */
export function displayPath(file: string, cwd: string): string {
  if (!file) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? toPosix(rel) : toPosix(file);
}

export interface ArgumentOptions {
  /** Folders outside the workspace that includes may read (--allow-outside). */
  readonly allowOutside?: readonly string[];
  /** The file size limit in KB (--max-file-size-kb; the editor's netpath.maxFileSizeKB). */
  readonly maxFileSizeKB?: number;
}

/**
 * The workspace of a command line: the folders given and the folders of the files given, plus the folders of
 * `--allow-outside`, each as written and as the real path its links lead to (the loader compares both forms).
 */
export async function workspaceRoots(
  args: readonly string[],
  cwd: string,
  allowOutside: readonly string[] = [],
): Promise<string[]> {
  const roots: string[] = [];
  for (const arg of [...args, ...allowOutside]) {
    const abs = path.resolve(cwd, arg);
    // A file argument brings its folder; --allow-outside always names a folder.
    const folder = await fs.stat(abs).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const dir = args.includes(arg) && !folder ? path.dirname(abs) : abs;
    roots.push(toPosix(dir));
    try {
      roots.push(toPosix(await fs.realpath(dir)));
    } catch {
      // A folder that does not exist holds nothing to read.
    }
  }
  return [...new Set(roots)];
}

/**
 * A file host that reads each file from disk once for one command, and hands the same text to every step that asks:
 * checking that the arguments can be read, grouping them into topologies and loading each group read a cluster
 * dump of 30 MB three times. Made per command (a long-lived one would hand out stale text), and the texts it holds
 * go with it: a command keeps the texts it read until it prints its findings anyway.
 */
export function readOnceHost(base: FileHost = nodeFileHost): ReadOnceHost {
  const reads = new Map<string, Promise<string | undefined>>();
  const parses = new ParsedOnce();
  return {
    ...base,
    readFile(p) {
      let text = reads.get(p);
      if (!text) reads.set(p, (text = base.readFile(p)));
      return text;
    },
    parse: parses.parse,
    takeParsed: parses.take,
  };
}

/** A {@link readOnceHost}: it parses once too, the files loading looks into for includes. */
export interface ReadOnceHost extends FileHost {
  /** The analysis's parse of a file: the one loading made (let go here), or a new one. Pass it as `parse`. */
  readonly takeParsed: (file: SourceFile) => ParsedFile;
}

/** How the loader reads a command line's files: confined to its workspace, within its size limit. */
export async function loadOptionsFor(args: readonly string[], cwd: string, options: ArgumentOptions = {}) {
  return {
    roots: await workspaceRoots(args, cwd, options.allowOutside),
    ...(options.maxFileSizeKB !== undefined ? { maxFileBytes: options.maxFileSizeKB * 1024 } : {}),
  };
}

/**
 * The topologies the arguments hold, grouped as the editor groups them ({@link groupTopologies}), includes
 * confined to the command line's workspace. A file that cannot be read is a {@link FileArgumentError}; symbolic
 * links in folders that lead outside the workspace or to nothing are added to `problems`.
 */
export async function topologiesOf(
  args: readonly string[],
  cwd: string,
  options: ArgumentOptions = {},
  problems: Problem[] = [],
  files: FileHost = nodeFileHost,
): Promise<TopologyGroup[]> {
  const load = await loadOptionsFor(args, cwd, options);
  const roots = await expandEach(args, cwd, { roots: load.roots, problems });
  const limit = load.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  // Grouping only needs to know what a file is: one over the size limit is read as empty (loading reports it).
  const host: FileHost = {
    ...files,
    readFile: async (p) => (((await files.size?.(p)) ?? 0) > limit ? '' : files.readFile(p)),
  };
  for (const f of new Set(roots.flat()))
    if ((await host.readFile(f)) === undefined) throw new FileArgumentError(`cannot read '${displayPath(f, cwd)}'`);
  return groupTopologies(roots, host, load);
}

/**
 * Reads one topology's entries and what they include, confined to the command line's workspace (`args` are the
 * arguments it came from). An entry file that cannot be read is a {@link FileArgumentError}. `files` is how files are
 * read: a {@link readOnceHost} shared with {@link topologiesOf} reads each of them once.
 */
export async function loadEntries(
  entries: readonly string[],
  args: readonly string[],
  cwd: string,
  options: ArgumentOptions = {},
  files: FileHost = nodeFileHost,
): Promise<LoadResult> {
  const loaded = await loadTopologyFiles(entries, files, undefined, await loadOptionsFor(args, cwd, options));
  if (loaded.unreadable.length)
    throw new FileArgumentError(`cannot read '${displayPath(loaded.unreadable[0] ?? '', cwd)}'`);
  return loaded;
}

/** Refuses arguments that hold several topologies where one is needed, naming them. */
export function oneTopology(groups: readonly TopologyGroup[], cwd: string): TopologyGroup {
  if (groups.length === 1) return groups[0];
  const names = groups.map((g) => displayPath(g.entries[0], cwd));
  throw new FileArgumentError(
    groups.length
      ? `these files hold ${groups.length} separate topologies (${names.join(', ')}): name one of them`
      : 'no topology in these files',
  );
}
