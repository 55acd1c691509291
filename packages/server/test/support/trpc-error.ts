import { TRPCClientError } from '@trpc/client';

/** The service's error code and HTTP status a tRPC call failed with; `{}` when it succeeded. */
export async function codeOf(call: Promise<unknown>): Promise<{ code?: string; status?: number }> {
  try {
    await call;
    return {};
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { code: error.data?.code, status: error.data?.httpStatus };
  }
}
