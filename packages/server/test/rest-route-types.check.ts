// Compiled by `pnpm typecheck`, never run: a REST route's parameters and body are checked against
// the input of the procedure it runs, so a misspelled field fails to compile. Each mistake below
// must be an error (an unneeded @ts-expect-error is one too).
import { z } from 'zod';
import { stringQuery } from '../src/rest/params.js';
import { jsonRoute } from '../src/rest/route.js';
import { uploadIdParameter, workspaceParameter } from '../src/rest/routes/parameters.js';

const base = {
  method: 'get',
  path: '/check',
  operationId: 'check',
  tag: 'upload',
  summary: '',
  description: '',
  access: 'workspace',
  errors: [],
  response: { description: '', schema: z.object({ uploadId: z.string() }) },
} as const;

const startParameters = [workspaceParameter, stringQuery('fileType', z.string(), '')];

export const correct = jsonRoute({
  ...base,
  procedure: (caller) => caller.upload.start,
  parameters: startParameters,
  handle: async ({ run }) => ({ uploadId: (await run()).uploadId }),
});

export const misspelledParameter = jsonRoute({
  ...base,
  procedure: (caller) => caller.upload.start,
  // @ts-expect-error upload.start has no input field fileTyp
  parameters: [workspaceParameter, stringQuery('fileTyp', z.string(), '')],
  handle: async ({ run }) => ({ uploadId: (await run()).uploadId }),
});

export const parameterOfAnotherProcedure = jsonRoute({
  ...base,
  procedure: (caller) => caller.upload.start,
  // @ts-expect-error uploadId is an input of upload.signPart, not of upload.start
  parameters: [workspaceParameter, uploadIdParameter],
  handle: async ({ run }) => ({ uploadId: (await run()).uploadId }),
});

export const misspelledBodyField = jsonRoute({
  ...base,
  method: 'post',
  procedure: (caller) => caller.upload.complete,
  parameters: [],
  body: {
    schema: z.object({}),
    required: true,
    description: '',
    fieldNames: {},
    fields: {
      workspaceId: (field) => field('workspaceId'),
      // @ts-expect-error upload.complete has no input field uploadID
      uploadID: (field) => field('uploadId'),
    },
  },
  handle: async ({ run }) => ({ uploadId: (await run()).key }),
});

export const wrongUseOfTheAnswer = jsonRoute({
  ...base,
  procedure: (caller) => caller.upload.start,
  parameters: startParameters,
  // @ts-expect-error upload.start answers no url
  handle: async ({ run }) => ({ uploadId: (await run()).url }),
});
