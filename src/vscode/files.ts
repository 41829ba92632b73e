/** Which files NetPath reads, and a core FileHost over VS Code's file system (works in remote and virtual workspaces). */
import * as vscode from 'vscode';
import { isInside, isManifestFile, isNetPathDocument as isNetPath, type FileHost } from '../core';
import { confinedRealPath } from '../lab/files';

export { NETPATH_FILE } from '../core';

/** The languages of the documents NetPath reads: YAML, and JSON for `kubectl get -o json` dumps. */
const JSON_LANGUAGES = new Set(['json', 'jsonc']);
export const MANIFEST_LANGUAGES: vscode.DocumentSelector = [
  { language: 'yaml' },
  { language: 'json' },
  { language: 'jsonc' },
];

/** Whether NetPath reads a document of this language at all (the text decides the rest). */
export function isReadLanguage(languageId: string): boolean {
  return languageId === 'yaml' || JSON_LANGUAGES.has(languageId);
}

/**
 * Whether an open document holds Kubernetes objects NetPath reads ({@link isManifestFile}, the rule the command
 * line uses): a JSON document only when it is a Kubernetes object or list, never package.json or settings.
 */
export function isManifestDocument(doc: vscode.TextDocument, text = doc.getText()): boolean {
  return isManifestFile(doc.uri.path, text, JSON_LANGUAGES.has(doc.languageId));
}

export function isNetPathDocument(uri: vscode.Uri, text: string): boolean {
  return isNetPath(uri.path, text);
}

/**
 * The folders a topology may read: the workspace folders of its scheme (or, outside any workspace, the folder of
 * its first file), plus `netpath.allowedFolders` when the workspace is trusted (an untrusted repository's
 * settings cannot widen what it reads).
 */
export function workspaceRoots(state: { readonly base: vscode.Uri; readonly entries: readonly string[] }): string[] {
  const folders = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === state.base.scheme)
    .map((f) => f.uri.path);
  const own = folders.filter((f) => state.entries.some((e) => isInside(e, f)));
  const roots = own.length
    ? folders
    : state.entries.map((e) => (e.includes('/') ? e.slice(0, e.lastIndexOf('/')) || '/' : '.'));
  const allowed = vscode.workspace.isTrusted
    ? vscode.workspace.getConfiguration('netpath').get<string[]>('allowedFolders', [])
    : [];
  return [...roots, ...allowed.filter((a) => typeof a === 'string' && a.startsWith('/'))];
}

export function createFileHost(openText: (path: string) => string | undefined, base: vscode.Uri): FileHost {
  const toUri = (path: string) => base.with({ path });
  return {
    // On disk, symbolic links are followed (never looking outside the workspace); other schemes have none.
    ...(base.scheme === 'file'
      ? { realPath: (p: string, roots: readonly string[]) => confinedRealPath(p, roots) }
      : {}),
    async size(path) {
      if (openText(path) !== undefined) return 0;
      try {
        const st = await vscode.workspace.fs.stat(toUri(path));
        return st.type & vscode.FileType.File ? st.size : undefined;
      } catch {
        return undefined;
      }
    },
    async readFile(path) {
      const open = openText(path);
      if (open !== undefined) return open;
      try {
        return new TextDecoder().decode(await vscode.workspace.fs.readFile(toUri(path)));
      } catch {
        return undefined;
      }
    },
    async glob(baseDir, pattern) {
      const found = await vscode.workspace.findFiles(
        new vscode.RelativePattern(toUri(baseDir), pattern),
        '**/node_modules/**',
        5000,
      );
      return found.map((u) => u.path).sort();
    },
  };
}
