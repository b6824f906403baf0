/** Where to go after logging in. */

/** Only same-site paths are followed after login, never an absolute URL. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  if (next.startsWith('/login') || next.startsWith('/signup')) return '/'
  return next
}
