// Public API of the Kubernetes mode: the controller and the gateway processes, and what the
// CLI's `deploy --kube` needs to name the Function resource.
export { startKubeController, type KubeController, type KubeControllerOptions } from "./controller.ts";
export { startKubeGateway, type KubeGateway, type KubeGatewayOptions } from "./gateway.ts";
export { apiMessage, apiStatus } from "./kube-api.ts";
export type { FunctionCondition, FunctionObject, FunctionStatus } from "./function-object.ts";
export { FUNCTION_API, FUNCTION_API_VERSION } from "./names.ts";
