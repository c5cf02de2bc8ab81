/** Marker a test looks for in a bundle built against the stub runtime. */
export const STUB_MARKER = "stub-runtime-extra-marker";
