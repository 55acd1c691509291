import superjson from 'superjson';

type SuperJsonResult = ReturnType<typeof superjson.serialize>;

/**
 * superjson on the wire, with a fast path for answers that are plain JSON already.
 *
 * superjson walks every value of an answer, building a path for each to record its annotations;
 * for `upload.signParts` with 10,000 URLs that walk cost more than signing them. When every value
 * is a string, a finite number (not -0), a boolean, null, a plain array or a plain object, each
 * object met once, superjson would answer `{ json: value }` with no meta: this answers the same
 * after a walk that records nothing. Anything else (a Date, undefined, a Map, a shared object)
 * goes to superjson, so the client's `superjson.deserialize` reads every answer as before.
 */
export const wireTransformer = {
  serialize(value: unknown): SuperJsonResult {
    return isPlainJson(value) ? { json: value as SuperJsonResult['json'] } : superjson.serialize(value);
  },
  // Inputs arrive freshly parsed and nothing else holds them: restoring them in place spares
  // superjson a deep copy of every input (10,000 part numbers in a signParts call).
  deserialize: (payload: unknown): unknown => superjson.deserialize(payload as SuperJsonResult, { inPlace: true }),
};

/** Whether superjson would leave `value` as it is, with no annotation. */
export function isPlainJson(value: unknown): boolean {
  const seen = new Set<object>();
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    switch (typeof next) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(next) || Object.is(next, -0)) return false;
        continue;
      case 'object': {
        if (next === null) continue;
        // superjson records an object met at two paths, to restore the sharing.
        if (seen.has(next)) return false;
        seen.add(next);
        if (Array.isArray(next)) {
          for (let index = 0; index < next.length; index++) {
            // A hole reads as undefined, which superjson annotates.
            if (next[index] === undefined) return false;
            pending.push(next[index]);
          }
          continue;
        }
        if (!isPlainObject(next)) return false;
        for (const key in next) {
          if (!Object.hasOwn(next, key)) continue;
          // superjson refuses these keys outright; let it say so.
          if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
          pending.push((next as Record<string, unknown>)[key]);
        }
        continue;
      }
      default:
        return false;
    }
  }
  return true;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
