// The database URL as people see it: no password shown, whether in the user part or as
// ?password= / ?sslpassword= (Bun's client reads both).

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

const SECRET_PARAMS = ["password", "sslpassword"];

/** The URL without its password, for messages, state dump and logs. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password && !SECRET_PARAMS.some((k) => u.searchParams.has(k))) return url;
    u.password = "";
    for (const k of SECRET_PARAMS) u.searchParams.delete(k);
    return u.toString();
  } catch {
    // Not parseable: cut whatever sits between the user and the host, and any password parameter.
    return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, "$1@").replace(/[?&](?:ssl)?password=[^&]*/gi, "");
  }
}
