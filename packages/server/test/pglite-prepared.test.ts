import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterLiterals, withPreparedStatements } from '../src/catalog/pglite-prepared.js';

describe('PGlite with prepared statements', () => {
  let raw: PGlite;
  let client: PGlite;

  beforeAll(async () => {
    raw = await PGlite.create();
    client = await withPreparedStatements(raw);
    await raw.exec(`create table notes (id int primary key, body text, at timestamptz, big bigint, flag boolean, tags text[])`);
  });
  afterAll(async () => {
    await raw.close();
  });

  const preparedNames = async () =>
    (await raw.query<{ name: string }>('select name from pg_prepared_statements order by name')).rows.map((row) => row.name);

  it('prepares a statement the second time it runs, and runs it with EXECUTE from then on', async () => {
    const text = 'select $1::int + $2::int as sum';
    expect((await client.query<{ sum: number }>(text, [1, 2])).rows).toEqual([{ sum: 3 }]);
    const before = await preparedNames();
    expect((await client.query<{ sum: number }>(text, [3, 4])).rows).toEqual([{ sum: 7 }]);
    const after = await preparedNames();
    expect(after.length).toBe(before.length + 1);
    expect((await client.query<{ sum: number }>(text, [5, 6])).rows).toEqual([{ sum: 11 }]);
    expect(await preparedNames()).toEqual(after);
  });

  it('returns every text exactly as a bound parameter would: quotes, backslashes, unicode, newlines', async () => {
    const text = 'select $1::text as value, length($1::text) as length';
    await client.query(text, ['warm']);
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary' }).filter((value) => !value.includes('\0')),
        async (value) => {
          const { rows } = await client.query<{ value: string }>(text, [value]);
          expect(rows[0]!.value).toBe(value);
        },
      ),
      { numRuns: 300 },
    );
    for (const value of ["'; drop table notes; --", "\\'", "''", "E'\\x41'", '$$', '\u{1F600}\r\n\t']) {
      expect((await client.query<{ value: string }>(text, [value])).rows[0]!.value).toBe(value);
    }
    expect((await raw.query('select count(*)::int as n from notes')).rows).toEqual([{ n: 0 }]);
  });

  it('writes numbers, bigints, booleans, dates and nulls as their columns take them', async () => {
    const insert = 'insert into notes (id, body, at, big, flag) values ($1, $2, $3, $4, $5) returning id, body, at, big, flag';
    const at = new Date('2026-12-02T13:45:01.234Z');
    for (const id of [1, 2, 3]) {
      const { rows } = await client.query<Record<string, unknown>>(insert, [id, null, at, 9_007_199_254_740_993n, id % 2 === 0]);
      expect(rows[0]).toMatchObject({ id, body: null, flag: id % 2 === 0 });
      expect((rows[0]!.at as Date).toISOString()).toBe(at.toISOString());
      expect(String(rows[0]!.big)).toBe('9007199254740993');
    }
  });

  it('keeps the database error and its SQLSTATE, so the catalogue translates it as before', async () => {
    const insert = 'insert into notes (id, body) values ($1, $2)';
    await client.query(insert, [10, 'a']);
    await client.query(insert, [11, 'b']);
    await expect(client.query(insert, [10, 'again'])).rejects.toMatchObject({ code: '23505' });
  });

  it('runs a statement with a parameter it cannot write as a literal (an array) as sent', async () => {
    const text = 'select cardinality($1::text[]) as n';
    for (let run = 0; run < 3; run++) {
      expect((await client.query<{ n: number }>(text, [['a', "b'c", 'd']])).rows).toEqual([{ n: 3 }]);
    }
  });

  it('leaves statements PREPARE does not take (BEGIN, utility statements) alone', async () => {
    for (let run = 0; run < 3; run++) await client.query('show standard_conforming_strings');
    const names = await preparedNames();
    await client.query('show standard_conforming_strings');
    expect(await preparedNames()).toEqual(names);
  });

  it('writes only strings, finite numbers, bigints, booleans, valid dates and null as literals', () => {
    expect(parameterLiterals(["it's", 1.5, 2n, true, null, undefined, new Date(0)])).toEqual([
      "'it''s'",
      "'1.5'",
      "'2'",
      "'true'",
      'NULL',
      'NULL',
      "'1970-01-01T00:00:00.000Z'",
    ]);
    expect(parameterLiterals([Number.NaN])).toBeUndefined();
    expect(parameterLiterals([new Date(Number.NaN)])).toBeUndefined();
    expect(parameterLiterals([{ a: 1 }])).toBeUndefined();
    expect(parameterLiterals([new Uint8Array([1])])).toBeUndefined();
    expect(parameterLiterals(['a\0b'])).toBeUndefined();
  });
});
