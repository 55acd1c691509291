import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyedHmacSha256, prefixedHmacSha256 } from '../src/storage/hmac-sha256.js';

describe('prefixedHmacSha256', () => {
  it('equals node:crypto HMAC-SHA256 of prefix + suffix, for any key, prefix and suffix', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.string({ unit: 'binary' }),
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        (key, prefix, suffixes) => {
          const sign = prefixedHmacSha256(key, prefix, 160);
          for (const suffix of suffixes) {
            expect(sign(suffix)).toBe(
              createHmac('sha256', key)
                .update(prefix + suffix)
                .digest('hex'),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves nothing of a longer suffix behind for a shorter one', () => {
    const key = Buffer.alloc(32, 9);
    const sign = prefixedHmacSha256(key, 'AWS4-HMAC-SHA256\n', 64);
    sign('f'.repeat(64));
    expect(sign('abc')).toBe(createHmac('sha256', key).update('AWS4-HMAC-SHA256\nabc').digest('hex'));
  });

  it('refuses a suffix longer than it was prepared for', () => {
    const sign = prefixedHmacSha256(Buffer.alloc(32), '', 4);
    expect(() => sign('12345')).toThrow(RangeError);
  });
});

describe('keyedHmacSha256', () => {
  it('equals node:crypto HMAC-SHA256 for any key and messages of any length, in any order', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (key, messages) => {
          const sign = keyedHmacSha256(key);
          for (const message of messages) expect(sign(message)).toEqual(createHmac('sha256', key).update(message).digest());
        },
      ),
      { numRuns: 300 },
    );
  });
});
