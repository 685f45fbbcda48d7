// core/data-dir: where a Skiff node keeps its state by default, and the files in it other programs
// read (the CLI finds the admin token there).
export const DEFAULT_DATA_DIR = '/var/lib/skiff';

/** `<data dir>/admin.token`: an admin token's secret, mode 0600, re-created by the daemon if lost */
export const ADMIN_TOKEN_FILE = 'admin.token';
