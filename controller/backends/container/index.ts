// Public API of the container backend: replicas as runc containers from OCI images, supervised
// like process replicas (same readiness, drain, backoff, env and log files).
export { type ContainerBackend, type ContainerBackendOptions, containerDirs, startContainerBackend } from "./container-backend.ts";
export { ContainerUnavailableError, ImageConfigError, ImageUnpackError } from "./errors.ts";
export { type ImageRun, type ImageRunDefaults, parseImageRun } from "./image-run.ts";
export { type ContainerImage, type ContainerImageSource } from "./launcher.ts";
export { type ContainerSupport, checkContainerSupport } from "./preflight.ts";
export { makeRuntimeConfig, type RuntimeConfigInput } from "./runtime-config.ts";
