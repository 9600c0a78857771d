/**
 * Secrets out of text before it is shown: the user info of URLs (`http://user:pw@host` →
 * `http://***@host`; a token can be the user part alone) and `password`/`secret`-like fields.
 */
export function redact(text: string): string {
  return text
    .replace(/(\/\/)[^/@\s]+@/g, '$1***@')
    .replace(/("?(?:password|secret|token|sasl_password)"?\s*[:=]\s*)("[^"]*"|[^\s,}]+)/gi, '$1"***"')
}
