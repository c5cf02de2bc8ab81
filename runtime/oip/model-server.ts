// The model a replica serves over OIP v2: its metadata (read once after init) and the infer
// endpoint, run through the replica's request pipeline and batched when function.yaml asks.
import { makeBatchedInfer, makeBatchMetrics, type BatchMetrics, type InferFn } from "../batching/model-batcher.ts";
import { UnavailableError } from "../errors.ts";
import type { Registry } from "../metrics.ts";
import type { FunctionSpec, Logger, RequestContext, SkiffFunction } from "../types.ts";
import { InferContextImpl } from "./context.ts";
import { ModelNotFoundError, ModelOutputError } from "./errors.ts";
import { parseInferRequest } from "./request.ts";
import { HEADER_LENGTH, makeInferResponse } from "./response.ts";
import { parseOipPath } from "./routes.ts";
import type { ModelContext, ModelDefinition, ModelMetadata, Tensors } from "./types.ts";
import { validateMetadata } from "./validate.ts";

/** What a ModelServer needs from the replica. */
export interface ModelServerOptions {
  spec: FunctionSpec;
  registry: Registry;
  logger: Logger;
}

/** One model function's protocol side: name, metadata, and infer (direct or batched). */
export class ModelServer {
  /** The model's name in /v2/models/<name>. */
  readonly name: string;
  /** The infer endpoint as a function hook, so it gets admission, the deadline, error mapping and metrics. */
  readonly fn: SkiffFunction<unknown>;
  private meta: ModelMetadata | undefined;
  private run: InferFn | undefined;
  private readonly batchMetrics: BatchMetrics | undefined;

  constructor(
    private readonly model: ModelDefinition<unknown>,
    private readonly options: ModelServerOptions,
  ) {
    this.name = model.name ?? options.spec.name;
    this.fn = Object.freeze({ __skiffFunction: 1 as const, http: (request: Request, ctx: RequestContext<unknown>) => this.infer(request, ctx) });
    // Registered up front so the series exist (at zero) before the first batch.
    this.batchMetrics = options.spec.batch ? makeBatchMetrics(options.registry) : undefined;
  }

  /** The metadata once loaded (after init). */
  get metadata(): ModelMetadata | undefined {
    return this.meta;
  }

  /** Reads and validates the model's metadata; the replica turns ready only after this. */
  async load(ctx: ModelContext<unknown>): Promise<void> {
    const meta = validateMetadata(await this.model.metadata(ctx));
    const infer: InferFn = async (inputs, inferCtx) => this.model.infer(inputs, inferCtx);
    const { batch } = this.options.spec;
    this.run = batch
      ? makeBatchedInfer({ spec: batch, infer, outputs: meta.outputs, metrics: this.batchMetrics!, logger: this.options.logger })
      : infer;
    this.meta = meta;
  }

  /** The metadata for a path's model and version: 404 for another model or an undeclared version, 503 before load. */
  resolve(model: string, version: string | undefined): ModelMetadata {
    if (model !== this.name) throw new ModelNotFoundError(`unknown model "${model}" (this replica serves "${this.name}")`);
    const meta = this.meta;
    if (!meta) throw new UnavailableError(`model "${this.name}" is not loaded yet (init is still running)`);
    if (version !== undefined && !meta.versions?.includes(version)) {
      const known = meta.versions?.length ? `it has ${meta.versions.map((v) => `"${v}"`).join(", ")}` : "it declares no versions";
      throw new ModelNotFoundError(`model "${this.name}" has no version "${version}" (${known})`);
    }
    return meta;
  }

  /** Handles POST /v2/models/<m>[/versions/<v>]/infer. */
  private async infer(request: Request, ctx: RequestContext<unknown>): Promise<Response> {
    const route = parseOipPath(new URL(request.url).pathname);
    if (route?.kind !== "infer") throw new ModelNotFoundError(`no inference endpoint at ${new URL(request.url).pathname}`);
    const meta = this.resolve(route.model, route.version);
    const body = new Uint8Array(await request.arrayBuffer());
    const parsed = parseInferRequest(body, request.headers.get(HEADER_LENGTH) ?? undefined, meta);
    const names = parsed.outputs.map((o) => o.name);
    const outputs: Tensors = await this.run!(parsed.inputs, new InferContextImpl(ctx, route.version, parsed.parameters, names));
    if (typeof outputs !== "object" || outputs === null) throw new ModelOutputError("model infer must return an object of output tensors by name");
    return makeInferResponse({ model_name: this.name, model_version: route.version, id: parsed.id }, parsed.outputs, outputs, meta);
  }
}
