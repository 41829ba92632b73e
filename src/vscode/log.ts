import * as vscode from 'vscode';

/** The "NetPath" output channel: what the extension did and why. */
export const log: vscode.LogOutputChannel = vscode.window.createOutputChannel('NetPath', { log: true });
