/**
 * The paths of Companion's S3 protocol below `/uppy`, as Express matches them; the OpenAPI
 * document (openapi/uppy.ts) writes the same ones with `{name}` segments. `:capability` comes
 * first in every path: `companionEndpoint` is `<origin>/uppy/<capability>`.
 */
export const UPPY_PATHS = {
  createMultipart: '/:capability/s3/multipart',
  signParts: '/:capability/s3/multipart/:uploadId/batch',
  signPart: '/:capability/s3/multipart/:uploadId/:partNumber',
  listParts: '/:capability/s3/multipart/:uploadId',
  completeMultipart: '/:capability/s3/multipart/:uploadId/complete',
  abortMultipart: '/:capability/s3/multipart/:uploadId',
  params: '/:capability/s3/params',
  form: '/:capability/s3/form',
} as const;
