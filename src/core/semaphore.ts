// The bound on how many of a kind of work run at once (agent calls, sign-of-life calls).

/** A counting semaphore: at most `n` holders, the rest wait in order (those that asked `ahead` first). */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  private readonly waitingAhead: (() => void)[] = [];
  constructor(private free: number) {}

  acquire(ahead = false): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => (ahead ? this.waitingAhead : this.waiting).push(resolve));
  }

  release(): void {
    const next = this.waitingAhead.shift() ?? this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
