/**
 * The local stack's time. Everything of the stack that waits or stamps a time does it on one
 * clock: the Data API emulator's long-polls and statement durations, the local Step Functions'
 * Wait states and history, and the functions' own `clock` when the stack builds their handlers.
 * By default that is the machine's clock. A {@link SimulatedClock} runs the same code on time
 * that passes only when something waits, so that a 24-hour query takes seconds: the benchmark of
 * long queries and their tests use it, and never race the machine's clock.
 */
export interface LocalClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` on this clock, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs `task` at `at` on this clock. What it returns is awaited before a simulated clock moves
   * past `at`, so that what the event sets off is done before later events. Returns a cancel.
   */
  schedule(at: number, task: () => unknown): () => void;
}

function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The machine's clock. */
export const realClock: LocalClock = {
  now: () => Date.now(),
  sleep: sleepFor,
  schedule(at, task) {
    const timer = setTimeout(() => void task(), Math.max(0, at - Date.now()));
    return () => clearTimeout(timer);
  },
};

/** A clock whose `now` is set (tests of expiry) while its waits run on the machine's clock. */
export const clockReading = (now: () => number): LocalClock => ({ ...realClock, now });

interface Timer {
  at: number;
  order: number;
  task: () => unknown;
}

/** Lets what is under way (promise callbacks, I/O callbacks already due) run first. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Time that moves only when something sleeps: a sleep jumps to the earliest scheduled event due
 * before its end, runs it (awaiting what it returns), and so on until its own end, or until its
 * signal aborts (a long-poll that a statement's end answers). What runs meanwhile (a Lambda, an
 * HTTP request) takes no simulated time.
 *
 * It models one actor waiting at a time, which is how one execution waits: a Wait state, or a
 * long-poll inside a Lambda, while its statement's end is a scheduled event. Two executions
 * sleeping at once would each move the clock on for the other.
 */
export class SimulatedClock implements LocalClock {
  private current: number;
  private readonly timers: Timer[] = [];
  private nextOrder = 0;

  constructor(start: number = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, task: () => unknown): () => void {
    const timer: Timer = { at, order: this.nextOrder++, task };
    this.timers.push(timer);
    return () => {
      const index = this.timers.indexOf(timer);
      if (index >= 0) this.timers.splice(index, 1);
    };
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const wakeAt = this.current + Math.max(0, ms);
    await settle();
    while (!signal?.aborted) {
      const due = this.earliestDueBy(wakeAt);
      if (due === undefined) {
        this.current = Math.max(this.current, wakeAt);
        return;
      }
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      await due.task();
      await settle();
    }
  }

  /** Moves the clock on by `ms` with nobody waiting, running what falls due on the way. */
  advance(ms: number): Promise<void> {
    return this.sleep(ms);
  }

  private earliestDueBy(at: number): Timer | undefined {
    let earliest: Timer | undefined;
    for (const timer of this.timers) {
      if (timer.at > at) continue;
      if (
        earliest === undefined ||
        timer.at < earliest.at ||
        (timer.at === earliest.at && timer.order < earliest.order)
      )
        earliest = timer;
    }
    return earliest;
  }
}
