/** The slice of better-sqlite3's API the bench uses (it ships no types; @types/better-sqlite3 is not needed). */
declare module "better-sqlite3" {
  interface Statement {
    run(...params: unknown[]): unknown;
    iterate(...params: unknown[]): IterableIterator<unknown>;
  }
  interface Database {
    pragma(source: string): unknown;
    exec(source: string): this;
    prepare(source: string): Statement;
    transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
    close(): void;
  }
  const Database: new (filename: string) => Database;

  export type { Database };
  export default Database;
}
