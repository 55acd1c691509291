import type { TRPCRequestInfo } from '@trpc/server/http';
import type { RequestLimits } from '../config.js';
import { AppError } from '../errors.js';

type Call = TRPCRequestInfo['calls'][number];

/**
 * Part URLs each signing procedure asks for, read from its raw input. The count is only a
 * measure: a malformed input counts as none here and is refused by the procedure's own schema.
 */
const partsAskedBy: Readonly<Record<string, (input: unknown) => number>> = {
  'upload.signPart': () => 1,
  'upload.signParts': (input) => {
    const numbers = (input as { partNumbers?: unknown } | undefined)?.partNumbers;
    return Array.isArray(numbers) ? numbers.length : 0;
  },
};

/**
 * Refuses (413 REQUEST_TOO_LARGE, for every call of the batch) a tRPC request that asks for more
 * than one request may: too many calls, or too many part URLs summed over its calls. It runs
 * from the context, before any procedure, so a refused batch costs a parse of its body and no
 * signing: one batch of 40 x 10,000 parts took 5.4 s of the event loop and 460 MiB to answer.
 */
export async function refuseOversizedRequest(info: TRPCRequestInfo, limits: RequestLimits): Promise<void> {
  if (info.calls.length > limits.maxCallsPerBatch) {
    throw new AppError(
      'REQUEST_TOO_LARGE',
      `a batch may hold at most ${limits.maxCallsPerBatch} calls; this one holds ${info.calls.length}`,
    );
  }
  let parts = 0;
  for (const call of info.calls) {
    const count = partsAskedBy[call.path];
    if (count) parts += count(await rawInput(call));
  }
  if (parts > limits.maxPartsPerRequest) {
    throw new AppError(
      'REQUEST_TOO_LARGE',
      `one request may ask for at most ${limits.maxPartsPerRequest} part URLs; this one asks for ${parts}`,
    );
  }
}

/** tRPC parses the body once and keeps it; a body it cannot parse fails each call as before. */
async function rawInput(call: Call): Promise<unknown> {
  try {
    return await call.getRawInput();
  } catch {
    return undefined;
  }
}
