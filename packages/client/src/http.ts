/** How the client reaches the service over plain HTTP (the REST download), shared with tRPC. */
export interface HttpContext {
  /** The service's base URL without a trailing slash. */
  baseUrl: string;
  fetch: typeof globalThis.fetch;
  /** The caller's headers (auth) for requests to the service; never sent to signed store URLs. */
  headers(): Promise<Record<string, string>>;
}

export type HeadersOption = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

export function createHttpContext(options: { url: string; headers?: HeadersOption; fetch?: typeof globalThis.fetch }): HttpContext {
  const { headers, fetch: given } = options;
  return {
    baseUrl: options.url.replace(/\/+$/, ''),
    // Always called as a plain function: browsers throw "Illegal invocation" when the native
    // fetch runs with another object as `this` (as `http.fetch(...)` would make it). The global
    // one is looked up per call, so a polyfill installed later is used too.
    fetch: given ? (input, init) => given(input, init) : (input, init) => globalThis.fetch(input, init),
    headers: async () => headersToRecord(typeof headers === 'function' ? await headers() : headers),
  };
}

/** Any HeadersInit as the plain object tRPC's links take. */
function headersToRecord(init: HeadersInit | undefined): Record<string, string> {
  if (!init) return {};
  return Object.fromEntries(new Headers(init).entries());
}
