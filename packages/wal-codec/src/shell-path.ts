/** A path written into a command a user is told to run. */

/**
 * `path` as one POSIX shell word that a command reads as a path, quoted only when it needs to be (a command in an
 * error message or a hint is copied as shown): single quotes around anything outside `[A-Za-z0-9_@%+=:,./-]`, a
 * quote inside written `'\''`. A relative path starting with `-` is given as `./-…`, or the command would read it as
 * an option (quotes do not help: the shell removes them).
 *
 * ```ts
 * shellPath("/data/wal"); // "/data/wal"
 * shellPath("/my logs/wal"); // "'/my logs/wal'"
 * shellPath("-w"); // "./-w"
 * ```
 */
export function shellPath(path: string): string {
  const text = path.startsWith("-") ? `./${path}` : path;
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
