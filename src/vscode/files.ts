/** Which files NetPath reads, and a core FileHost over VS Code's file system (works in remote and virtual workspaces). */
import * as vscode from 'vscode';
import { isNetPathDocument as isNetPath, type FileHost } from '../core';

export { NETPATH_FILE, looksLikeManifest } from '../core';

export function isNetPathDocument(uri: vscode.Uri, text: string): boolean {
  return isNetPath(uri.path, text);
}

export function createFileHost(openText: (path: string) => string | undefined, base: vscode.Uri): FileHost {
  const toUri = (path: string) => base.with({ path });
  return {
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
