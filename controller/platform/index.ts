// Public API of the local platform (`skiff up`) and of the state dir other commands read.
export { startPlatform, type Platform, type PlatformLogger, type PlatformOptions } from "./platform.ts";
export { readPlatformInfo, resolveStateDir, type PlatformInfo } from "./state-files.ts";
export { imageDirs, makeContainerImages } from "./container-images.ts";
// Shared with the Kubernetes mode's gateway (controller/kube), which scales and dispatches the same way.
export { RevisionScalers, type RevisionScalerDeps } from "./revision-scalers.ts";
export { startPlatformEvents, type PlatformEvents } from "./events.ts";
