import superjson from 'superjson';

type SuperJsonResult = ReturnType<typeof superjson.serialize>;

/**
 * superjson, as the server speaks it. Answers arrive freshly parsed and nothing else holds them,
 * so they are restored in place: superjson's default deep copy of a 10,000-URL signParts answer
 * cost the client more than reading it.
 */
export const wireTransformer = {
  serialize: (value: unknown): SuperJsonResult => superjson.serialize(value),
  deserialize: (payload: unknown): unknown => superjson.deserialize(payload as SuperJsonResult, { inPlace: true }),
};
