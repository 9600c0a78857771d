/** Secrets out of text before it is shown: passwords in URLs and `password`/`secret`-like fields. */
export function redact(text: string): string {
  return text
    .replace(/(\/\/[^:/@\s]+:)[^@\s]+@/g, '$1***@')
    .replace(/("?(?:password|secret|token|sasl_password)"?\s*[:=]\s*)("[^"]*"|[^\s,}]+)/gi, '$1"***"')
}
