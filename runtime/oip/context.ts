// The context model.infer() sees: the request's, plus the protocol fields of the call.
import type { Logger, RequestContext } from "../types.ts";
import type { InferContext, InferParameter } from "./types.ts";

/** InferContext delegating the request fields to the pipeline's RequestContext (nothing is copied). */
export class InferContextImpl<S> implements InferContext<S> {
  constructor(
    private readonly base: RequestContext<S>,
    readonly version: string | undefined,
    readonly parameters: Readonly<Record<string, InferParameter>>,
    readonly outputs: readonly string[],
  ) {}

  get state(): S {
    return this.base.state;
  }
  get requestId(): string {
    return this.base.requestId;
  }
  get name(): string {
    return this.base.name;
  }
  get env(): Readonly<Record<string, string>> {
    return this.base.env;
  }
  get logger(): Logger {
    return this.base.logger;
  }
  /** Fires on the request's timeout or when its client goes away. */
  get signal(): AbortSignal {
    return this.base.signal;
  }
  assetPath(relativePath: string): string {
    return this.base.assetPath(relativePath);
  }
}
