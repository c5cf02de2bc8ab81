// Names and labels the Kubernetes mode agrees on: the controller writes them, the gateway
// selects by them, and tests that play the node write them on EndpointSlices.

/** Group, version, kind and plural of the Function custom resource. */
export const FUNCTION_API = { group: "skiff.dev", version: "v1alpha1", kind: "Function", plural: "functions" } as const;

/** apiVersion of a Function object. */
export const FUNCTION_API_VERSION = `${FUNCTION_API.group}/${FUNCTION_API.version}`;

/** metadata.name of the CRD (plural.group, as Kubernetes requires). */
export const FUNCTION_CRD_NAME = `${FUNCTION_API.plural}.${FUNCTION_API.group}`;

/** Namespace of the controller, the gateway and NATS (manifests/). */
export const SYSTEM_NAMESPACE = "skiff-system";

/** Label with the function's name on every object made for it (and copied onto EndpointSlices). */
export const FUNCTION_LABEL = "skiff.dev/function";
/** Label with the revision id on a revision's Deployment, pods, Service and EndpointSlices. */
export const REVISION_LABEL = "skiff.dev/revision";
/** Standard label saying who manages an object. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Value of MANAGED_BY_LABEL on objects the controller makes. */
export const MANAGED_BY = "skiff-controller";
/** Standard label grouping an application's objects. */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
/** Label the EndpointSlice controller sets to the owning Service's name. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** Name of the replica container in a revision's pods. */
export const CONTAINER_NAME = "function";
/** Name of the runtime's port on the container, the Service and EndpointSlices. */
export const PORT_NAME = "http";

/** Annotation on a revision's Deployment: the revision's normalized spec (canonical JSON), so the gateway can serve an older revision while a newer one starts. */
export const SPEC_ANNOTATION = "skiff.dev/spec";
