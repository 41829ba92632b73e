/**
 * Reads a topology's files through a host-provided file system: the entry files, then whatever their
 * NetPath documents `include:`, transitively. Include cycles end quietly (each file is read once);
 * includes that match nothing are `ref.unknown` problems on the include entry.
 *
 * A repository is untrusted input: includes are confined to the workspace (the folders given as `roots`). An
 * include outside it — an absolute path, `..`, or a symbolic link that leads out — is refused with
 * `include.outside-workspace` before anything is read, and the message says nothing of the target (whether it
 * exists, what it holds). Files larger than `maxFileBytes` are not read (`file.too-large`), and no more than
 * `maxFiles` files are read (`include.too-many`).
 */
import { problem, type Problem, type Span } from '../problem';
import { parseYamlFile, type ParsedFile } from '../syntax/yaml';
import { get } from '../syntax/yaml';
import { strings } from '../model/read';
import type { SourceFile } from '../model/types';
import { dirname, join, normalize } from './paths';

/** What the core needs from the outside world to read files. Paths are absolute POSIX paths. */
export interface FileHost {
  readFile(path: string): Promise<string | undefined>;
  /** Absolute paths of the files matching a glob relative to `baseDir`, sorted. */
  glob(baseDir: string, pattern: string): Promise<string[]>;
  /**
   * Where `path` really is once symbolic links are followed, looking at nothing outside `roots` (a walk that
   * leaves them stops there and returns where it got to). Hosts without links leave it out.
   */
  realPath?(path: string, roots: readonly string[]): Promise<string>;
  /** The size in bytes of a regular file; undefined for anything else (a device, a FIFO) or an unreadable path. */
  size?(path: string): Promise<number | undefined>;
  /**
   * How the loader parses a file it looks into for includes (default: parseYamlFile). A host made for one command
   * keeps the parse for the analysis that follows (ParsedOnce).
   */
  parse?(file: SourceFile): ParsedFile;
}

export interface LoadOptions {
  /**
   * The workspace: absolute folders files may be read from (CLI: the folders and the files' folders given on the
   * command line, plus --allow-outside; editor: the workspace folders). Default: the entry files' folders.
   */
  readonly roots?: readonly string[];
  /** Files larger than this are not read. Default {@link DEFAULT_MAX_FILE_BYTES}. */
  readonly maxFileBytes?: number;
  /** At most this many files are read. Default {@link DEFAULT_MAX_FILES}. */
  readonly maxFiles?: number;
}

export interface LoadResult {
  readonly files: readonly SourceFile[];
  readonly problems: readonly Problem[];
  /** Entry files the host could not read (the CLI reports them as usage errors). */
  readonly unreadable: readonly string[];
}

/**
 * The default file size limit, the same as the editor's `netpath.maxFileSizeKB` default (8192 KB): it fits a
 * 15,000-pod topology (2.7 MB) and its kubectl dump (11 MB is over it: raise the limit for dumps that size).
 */
export const DEFAULT_MAX_FILE_BYTES = 8192 * 1024;
export const DEFAULT_MAX_FILES = 2000;
/**
 * Whether `text` can hold a NetPath document with an `include` (it says both `include` and `netpath.dev/`). A cluster
 * dump is searched whole: V8 looks for a pattern's first character and checks the rest at each hit, and `i` is
 * everywhere in YAML (`image`, `imagePullPolicy`, `initContainers`), where `c` is rare. Searching `clude` first made
 * the check on a 115 MB `kubectl get -o yaml` dump ~25 ms instead of ~86, and ~4 instead of ~20 on a 26 MB topology.
 */
export function mayInclude(text: string): boolean {
  return text.includes('clude') && text.includes('include') && text.includes('netpath.dev/');
}

const GLOB_CHARS = /[*?[\]{}]/;

/** Whether `path` is `root` or under it (both normalized absolute paths). */
export function isInside(path: string, root: string): boolean {
  return path === root || root === '/' || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

const insideAny = (path: string, roots: readonly string[]) => roots.some((r) => isInside(path, r));

/** The folder a glob starts from: its leading segments without glob characters, and whether `..` follows a glob. */
function globBase(dir: string, pattern: string): { base: string; climbsAfterGlob: boolean } {
  const segments = pattern.split('/');
  const first = segments.findIndex((s) => GLOB_CHARS.test(s));
  const fixed = first < 0 ? segments : segments.slice(0, first);
  return {
    base: join(dir, fixed.join('/') || '.'),
    climbsAfterGlob: first >= 0 && segments.slice(first).includes('..'),
  };
}

export async function loadTopologyFiles(
  entries: readonly string[],
  host: FileHost,
  preloaded: ReadonlyMap<string, string> = new Map(),
  options: LoadOptions = {},
): Promise<LoadResult> {
  const roots = (options.roots ?? entries.map(dirname)).map(normalize);
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  const files: SourceFile[] = [];
  const problems: Problem[] = [];
  const unreadable: string[] = [];
  const seen = new Set<string>();
  const cache = new Map(preloaded);
  const tooLarge = (path: string, size: number) =>
    problems.push(
      problem(
        'file.too-large',
        'warning',
        `NetPath did not read this file: it is ${Math.ceil(size / 1024)} KB, over the limit of ${Math.floor(maxBytes / 1024)} KB (netpath.maxFileSizeKB in the editor, --max-file-size-kb on the command line).`,
        { file: path, start: 0, end: 0 },
      ),
    );
  /** The text of a file, '' (with a problem) when it is too large, undefined when it cannot be read. */
  const read = async (path: string): Promise<string | undefined> => {
    let text = cache.get(path);
    if (text === undefined) {
      const size = host.size ? await host.size(path) : 0;
      if (size === undefined) return undefined;
      if (size > maxBytes) {
        tooLarge(path, size);
        cache.set(path, '');
        return '';
      }
      text = await host.readFile(path);
      if (text === undefined) return undefined;
    }
    // Open editors' texts (preloaded) are held to the same limit as files read from disk.
    if (text.length > maxBytes) {
      tooLarge(path, text.length);
      text = '';
    }
    cache.set(path, text);
    return text;
  };
  /** Whether `path` (normalized) is inside the workspace, symbolic links followed. */
  const confined = async (path: string): Promise<boolean> =>
    insideAny(path, roots) && (!host.realPath || insideAny(normalize(await host.realPath(path, roots)), roots));
  const refuse = (include: string, span: Span, how: string) =>
    problems.push(
      problem(
        'include.outside-workspace',
        'error',
        `include '${include}' ${how} outside the workspace: NetPath reads only files inside the folders it was given (a repository could otherwise read any file of this machine into its diagnostics). Widen it on purpose with --allow-outside <folder> on the command line, or netpath.allowedFolders in a trusted workspace.`,
        span,
      ),
    );

  const queue = [...entries];
  let tooMany = false;
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    if (seen.has(path)) continue;
    seen.add(path);
    if (files.length >= maxFiles) {
      tooMany = true;
      continue;
    }
    const text = await read(path);
    if (text === undefined) {
      // The caller reports unreadable entry files; includes are checked below.
      if (entries.includes(path)) unreadable.push(path);
      continue;
    }
    files.push({ path, text });
    // Only NetPath documents include other files: a file that never says `include`, or has no `netpath.dev/`
    // apiVersion, is not parsed here (a cluster dump whose nginx snippets say `include` is not the editor's to parse
    // on its extension host at every edit).
    if (!mayInclude(text)) continue;
    const parsed = host.parse ? host.parse({ path, text }) : parseYamlFile(path, text);
    for (const doc of parsed.documents) {
      const apiVersion = get(doc.root, 'apiVersion');
      if (apiVersion?.kind !== 'scalar' || !String(apiVersion.value).startsWith('netpath.dev/')) continue;
      for (const inc of strings(get(doc.root, 'include'))) {
        const dir = dirname(path);
        let matches: string[];
        if (GLOB_CHARS.test(inc.value)) {
          const { base, climbsAfterGlob } = globBase(dir, inc.value);
          if (climbsAfterGlob || !(await confined(base))) {
            refuse(inc.value, inc.span, 'reaches');
            continue;
          }
          matches = (await host.glob(dir, inc.value)).map(normalize);
        } else {
          const target = join(dir, inc.value);
          if (!(await confined(target))) {
            refuse(inc.value, inc.span, 'is');
            continue;
          }
          matches = [target];
        }
        const existing: string[] = [];
        let outside = false;
        for (const m of matches) {
          if (!(await confined(m))) outside = true;
          else if (seen.has(m) || (await read(m)) !== undefined) existing.push(m);
        }
        if (outside) refuse(inc.value, inc.span, 'leads (through a symbolic link)');
        else if (!existing.length) {
          problems.push(
            problem('ref.unknown', 'error', `include '${inc.value}' matches no file (relative to ${dir}).`, inc.span),
          );
        }
        queue.push(...existing);
      }
    }
  }
  if (tooMany)
    problems.push(
      problem(
        'include.too-many',
        'warning',
        `More than ${maxFiles} files: NetPath read the first ${maxFiles} and left ${seen.size - files.length - unreadable.length} out.`,
        { file: entries[0] ?? '', start: 0, end: 0 },
      ),
    );
  return { files, problems, unreadable };
}
