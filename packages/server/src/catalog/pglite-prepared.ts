import type { PGlite } from '@electric-sql/pglite';
import { LRUCache } from 'lru-cache';

/** Statement texts kept prepared at once; the least recently used is deallocated past it. */
const MAX_PREPARED = 200;

/** Statements PREPARE accepts; anything else (BEGIN, ANALYZE, DDL) always runs as sent. */
const PREPARABLE = /^\s*(select|insert|update|delete|with|values)\b/i;

/** SQLSTATE invalid_sql_statement_name: EXECUTE of a statement that is not (or no longer) prepared. */
const UNKNOWN_STATEMENT = '26000';

type QueryParameters = readonly unknown[] | undefined;

/**
 * PGlite with a plan cache: a statement text seen a second time is PREPAREd once and run with
 * EXECUTE from then on. PostgreSQL plans an unnamed statement again on every run, and planning
 * in WebAssembly is most of what the catalogue's statements cost on PGlite (complete's outbox
 * CTEs especially): EXECUTE skips parsing and analysis always, and planning once PostgreSQL
 * settles on a generic plan (after five runs, when that plan is no worse).
 *
 * EXECUTE takes its arguments as SQL text, not as bound parameters (PostgreSQL binds none to a
 * utility statement), so they are written as quoted literals: only strings, numbers, booleans,
 * dates and null, each as an untyped string literal that PostgreSQL casts to the parameter's
 * type exactly as it casts a text-format bound parameter. With `standard_conforming_strings` on
 * (checked at open) the quote is the only character a literal escapes. A statement with any
 * other kind of parameter runs as sent. Transactions' own statements are not touched.
 */
export async function withPreparedStatements(client: PGlite): Promise<PGlite> {
  const { rows } = await client.query<{ standard_conforming_strings: string }>('show standard_conforming_strings');
  if (rows[0]?.standard_conforming_strings !== 'on') return client;

  const query = client.query.bind(client);
  const seen = new LRUCache<string, true>({ max: MAX_PREPARED * 4 });
  let counter = 0;
  const prepared = new LRUCache<string, Promise<string | undefined>>({
    max: MAX_PREPARED,
    dispose: (name) => {
      void name.then((statement) => {
        if (statement && !client.closed) query(`deallocate ${statement}`).catch(() => {});
      });
    },
  });

  const prepare = (text: string): Promise<string | undefined> => {
    let statement = prepared.get(text);
    if (!statement) {
      const name = `catalog_${++counter}`;
      // A text PREPARE refuses runs as sent from then on (undefined), never failing its caller.
      statement = query(`prepare ${name} as ${text}`).then(
        () => name,
        () => undefined,
      );
      prepared.set(text, statement);
    }
    return statement;
  };

  const preparedQuery = (async (text: string, parameters?: QueryParameters, options?: unknown) => {
    const literals = parameters === undefined ? [] : parameterLiterals(parameters);
    if (literals === undefined || !PREPARABLE.test(text)) return query(text, parameters as unknown[], options as never);
    if (!prepared.has(text) && !seen.has(text)) {
      seen.set(text, true);
      return query(text, parameters as unknown[], options as never);
    }
    const statement = await prepare(text);
    if (!statement) return query(text, parameters as unknown[], options as never);
    const call = literals.length > 0 ? `execute ${statement}(${literals.join(', ')})` : `execute ${statement}`;
    try {
      return await query(call, [], options as never);
    } catch (error) {
      // Deallocated by an eviction between its lookup and this run: run it as sent.
      if ((error as { code?: unknown }).code !== UNKNOWN_STATEMENT) throw error;
      prepared.delete(text);
      return query(text, parameters as unknown[], options as never);
    }
  }) as PGlite['query'];

  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return preparedQuery;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Each parameter as an untyped SQL string literal (or NULL); undefined when one cannot be written safely. */
export function parameterLiterals(parameters: readonly unknown[]): string[] | undefined {
  const literals: string[] = [];
  for (const value of parameters) {
    const literal = parameterLiteral(value);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  return literals;
}

function parameterLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return undefined;
    text = value.toISOString();
  } else return undefined;
  // A NUL cannot be in PostgreSQL text: sent as a bound parameter it fails the statement, so it does here too.
  if (text.includes('\0')) return undefined;
  return `'${text.replaceAll("'", "''")}'`;
}
