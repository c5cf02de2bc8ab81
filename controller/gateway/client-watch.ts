// Whether the client is still there. A plain listener list instead of an AbortController per
// request: AbortSignal wiring (and handing a signal to http.request) measurably raised the
// gateway's CPU per proxied request.

/** Reports that the client went away. */
export interface ClientGone {
  readonly gone: boolean;
  /** Calls `listener` once if the client goes away; returns a function that removes it. */
  onGone(listener: () => void): () => void;
}

/** A ClientGone the owner flips with markGone(). */
export class ClientWatch implements ClientGone {
  gone = false;
  private listeners: Array<() => void> = [];

  onGone(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Marks the client gone and runs every listener once. */
  markGone(): void {
    if (this.gone) return;
    this.gone = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
