/**
 * The service's contract, as types only: the router of /trpc and the error codes. The build
 * replaces this module's declaration file with the bundled declarations of the server's contract,
 * so the published package needs no server package to type-check.
 */
export type { AppRouter, ErrorCode } from '@s3-service/server/contract';
