// Whether this process is a compiled Bun executable (build.ts), not `bun src/main.ts`.

/** A compiled Bun executable runs its entry from Bun's embedded file system. */
export const compiled = (): boolean => Bun.main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(Bun.main);
