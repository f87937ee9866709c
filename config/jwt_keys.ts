// Whether a RequestAuthentication JWT rule has any way to get keys — shared by
// `ambit analyze` and the controlplane's status, so both say the same thing.

/** Why a rule can verify no token, or undefined when it has keys or a place to fetch them. */
export function jwtRuleKeyProblem(rule: { readonly issuer?: unknown; readonly jwks?: unknown; readonly jwksUri?: unknown }): string | undefined {
  if (typeof rule.jwks === "string") {
    let keys: unknown;
    try {
      keys = (JSON.parse(rule.jwks) as { keys?: unknown }).keys;
    } catch {
      keys = undefined;
    }
    return Array.isArray(keys) && keys.length > 0 ? undefined : "the inline JWKS holds no keys: every token for this issuer is refused with 401";
  }
  if (typeof rule.jwksUri === "string" && rule.jwksUri !== "") return undefined;
  if (/^https?:\/\/[^/]/.test(String(rule.issuer))) return undefined;
  return `issuer "${String(rule.issuer)}" is not a URL, so its keys cannot be discovered, and the rule has neither jwksUri nor jwks: every token it names is refused with 401`;
}
