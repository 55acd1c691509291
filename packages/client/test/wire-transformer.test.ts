import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { wireTransformer } from '../src/wire-transformer.js';

describe('the client wire transformer', () => {
  it('restores what superjson annotated: Dates, Sets, undefined', () => {
    const value = { lastModified: new Date(1234), tags: new Set(['a']), missing: undefined, size: 5 };
    const wire = JSON.parse(JSON.stringify(superjson.serialize(value)));
    expect(wireTransformer.deserialize(wire)).toEqual(value);
  });

  it('hands plain JSON answers back as parsed, without a deep copy', () => {
    const json = { parts: Array.from({ length: 1000 }, (_, index) => ({ partNumber: index + 1, url: `u${index}` })), expiresIn: 3600 };
    expect(wireTransformer.deserialize({ json })).toBe(json);
  });

  it('sends inputs as superjson does', () => {
    const input = { at: new Date(0), partNumbers: [1, 2] };
    expect(wireTransformer.serialize(input)).toEqual(superjson.serialize(input));
  });
});
