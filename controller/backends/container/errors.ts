// Named errors of the container backend. Like the process backend's, supervision never throws
// them at the autoscaler or the gateway: a replica that cannot start is a phase change whose
// exit reason carries the message. ContainerUnavailableError is also what a deploy of a
// container function answers when this machine cannot run containers.

/** This machine cannot run container replicas: the message names what is missing and how to fix it. */
export class ContainerUnavailableError extends Error {
  constructor(readonly missing: string, readonly fix: string, options?: { cause?: unknown }) {
    super(`cannot run container replicas: ${missing}; ${fix} (or deploy with --isolation process)`, options);
    this.name = "ContainerUnavailableError";
  }
}

/** An image could not be made into a root filesystem. */
export class ImageUnpackError extends Error {
  constructor(readonly image: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`failed to unpack image ${image}${detail}`, options);
    this.name = "ImageUnpackError";
  }
}

/** An image's config cannot be run as a replica (no entrypoint, runs as root, bad user). */
export class ImageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageConfigError";
  }
}
