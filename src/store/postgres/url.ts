// The database URL as people see it: the password never shown.

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The URL without its password, for messages, state dump and health. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "";
    return u.toString();
  } catch {
    // Not parseable: cut whatever sits between the user and the host.
    return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, "$1@");
  }
}
