// Per-request context and deadline, built for the hot path: no AbortController, listener or
// property descriptor is created unless the handler asks for `ctx.signal` or the timer fires.
import { HandlerTimeoutError } from "./errors.ts";
import type { InitContext, Logger, RequestContext } from "./types.ts";

/** The handler's time budget: rejects `race` when it elapses and fires the signal if one was asked for. */
export class Deadline {
  private controller: AbortController | undefined;
  private rejectRace: ((reason: unknown) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expired: HandlerTimeoutError | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Starts the clock; only asynchronous handlers need it. */
  start(): void {
    this.timer ??= setTimeout(() => this.expire(), this.timeoutMs);
  }

  /** An AbortSignal that fires when the deadline passes (created on first use). */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.expired && !this.controller.signal.aborted) this.controller.abort(this.expired);
    return this.controller.signal;
  }

  /** Settles with `work`, or rejects with HandlerTimeoutError the moment the deadline passes. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.expired) return Promise.reject(this.expired);
    return new Promise<T>((resolve, reject) => {
      this.rejectRace = reject;
      work.then(resolve, reject);
    });
  }

  /** Stops the timer once the request is answered. */
  clear(): void {
    clearTimeout(this.timer);
  }

  private expire(): void {
    this.expired = new HandlerTimeoutError(this.timeoutMs);
    this.controller?.abort(this.expired);
    this.rejectRace?.(this.expired);
  }
}

/** RequestContext with the shared fields delegated to the replica's InitContext. */
export class RequestContextImpl<S> implements RequestContext<S> {
  private combinedSignal: AbortSignal | undefined;
  private childLogger: Logger | undefined;
  private id: string | undefined;

  constructor(
    private readonly base: InitContext,
    readonly state: S,
    private readonly makeId: () => string,
    private readonly deadline: Deadline,
    private readonly client: AbortSignal | (() => AbortSignal),
  ) {}

  /** The caller's x-request-id or a generated one (made on first use). */
  get requestId(): string {
    return (this.id ??= this.makeId());
  }
  get name(): string {
    return this.base.name;
  }
  get env(): Readonly<Record<string, string>> {
    return this.base.env;
  }
  /** The replica logger with this request's id on every line. */
  get logger(): Logger {
    return (this.childLogger ??= this.base.logger.child({ requestId: this.requestId }));
  }
  /** Fires on timeout or when the client goes away. */
  get signal(): AbortSignal {
    const client = typeof this.client === "function" ? this.client() : this.client;
    return (this.combinedSignal ??= AbortSignal.any([this.deadline.signal, client]));
  }
  assetPath(relativePath: string): string {
    return this.base.assetPath(relativePath);
  }
}
