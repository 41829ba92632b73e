/** The version printed by `netpath --version` and written into SARIF: the package version, bundled at build time. */
import pkg from '../../package.json';

export const VERSION: string = pkg.version;
