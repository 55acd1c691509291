import type { CorsRule } from '../../schemas.js';

/**
 * Bucket CORS rule matching as S3 does it: the first rule that allows the origin, the method and
 * every requested header wins. Origins and headers may hold `*` wildcards; headers compare
 * case-insensitively (they are case-insensitive in HTTP), origins exactly.
 */
export function findPreflightRule(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  requestHeaders: readonly string[],
): CorsRule | undefined {
  return rules.find(
    (rule) =>
      allowsOriginAndMethod(rule, origin, method) &&
      requestHeaders.every((header) =>
        (rule.AllowedHeaders ?? []).some((allowed) => wildcardMatch(allowed.toLowerCase(), header.toLowerCase())),
      ),
  );
}

/** For an actual (non-preflight) request only origin and method count, as in S3. */
export function findRequestRule(rules: readonly CorsRule[], origin: string, method: string): CorsRule | undefined {
  return rules.find((rule) => allowsOriginAndMethod(rule, origin, method));
}

function allowsOriginAndMethod(rule: CorsRule, origin: string, method: string): boolean {
  return (
    (rule.AllowedMethods as readonly string[]).includes(method) && rule.AllowedOrigins.some((allowed) => wildcardMatch(allowed, origin))
  );
}

/** `*` matches any run of characters (including none); everything else matches itself. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return pattern === value;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  const limit = value.length - last.length;
  let position = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = value.indexOf(piece, position);
    if (found === -1 || found + piece.length > limit) return false;
    position = found + piece.length;
  }
  return true;
}

/** Splits `Access-Control-Request-Headers` into lower-case names. */
export function parseHeaderList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}
