// The few apiserver calls the controller and the gateway make, over @kubernetes/client-node:
// one place that knows the client's calling conventions (request objects, patch content
// types, ApiException codes), so the reconciler reads as what it does.
import {
  ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type KubernetesListObject,
  PatchStrategy, setHeaderOptions, type V1Deployment, type V1EndpointSlice, type V1Service,
} from "@kubernetes/client-node";
import type { FunctionObject, FunctionStatus } from "./function-object.ts";
import { FUNCTION_API, FUNCTION_LABEL } from "./names.ts";
import type { WatchTarget } from "./informer.ts";

/** HTTP status of a failed API call (ApiException), else undefined. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The apiserver's own message of a failed call (Status.message), else the error's. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return typeof message === "string" ? message : `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The calls, scoped to one namespace or (namespace undefined) to all. */
export class KubeApi {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly discovery: DiscoveryV1Api;

  constructor(readonly kc: KubeConfig, readonly namespace?: string) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  /** Functions, for an informer. */
  functionsTarget(): WatchTarget<FunctionObject> {
    const { group, version, plural } = FUNCTION_API;
    const ns = this.namespace;
    return {
      path: ns ? `/apis/${group}/${version}/namespaces/${ns}/${plural}` : `/apis/${group}/${version}/${plural}`,
      list: async () =>
        (ns
          ? await this.custom.listNamespacedCustomObject({ group, version, plural, namespace: ns })
          : await this.custom.listClusterCustomObject({ group, version, plural })) as KubernetesListObject<FunctionObject>,
    };
  }

  /** Deployments made for functions (labelled with the function), for an informer. */
  deploymentsTarget(): WatchTarget<V1Deployment> {
    const ns = this.namespace;
    const labelSelector = FUNCTION_LABEL;
    return {
      path: ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : "/apis/apps/v1/deployments",
      labelSelector,
      list: () => (ns ? this.apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : this.apps.listDeploymentForAllNamespaces({ labelSelector })),
    };
  }

  /** EndpointSlices of functions' Services (they inherit the Service's labels), for an informer. */
  endpointSlicesTarget(): WatchTarget<V1EndpointSlice> {
    const ns = this.namespace;
    const labelSelector = FUNCTION_LABEL;
    return {
      path: ns ? `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices` : "/apis/discovery.k8s.io/v1/endpointslices",
      labelSelector,
      list: () => (ns ? this.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector }) : this.discovery.listEndpointSliceForAllNamespaces({ labelSelector })),
    };
  }

  /** Services of a function in a namespace. */
  async listServices(namespace: string, fn: string): Promise<V1Service[]> {
    return (await this.core.listNamespacedService({ namespace, labelSelector: `${FUNCTION_LABEL}=${fn}` })).items;
  }

  createDeployment(body: V1Deployment): Promise<V1Deployment> {
    return this.apps.createNamespacedDeployment({ namespace: body.metadata!.namespace!, body });
  }

  /** PUT with the object's resourceVersion: a 409 means someone changed it since it was read. */
  replaceDeployment(body: V1Deployment): Promise<V1Deployment> {
    return this.apps.replaceNamespacedDeployment({ name: body.metadata!.name!, namespace: body.metadata!.namespace!, body });
  }

  /** Sets replicas through the scale subresource (the autoscaler's field only; RBAC grants it alone to the gateway). */
  async scaleDeployment(namespace: string, name: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedDeploymentScale(
      { name, namespace, body: { spec: { replicas } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  createService(body: V1Service): Promise<V1Service> {
    return this.core.createNamespacedService({ namespace: body.metadata!.namespace!, body });
  }

  replaceService(body: V1Service): Promise<V1Service> {
    return this.core.replaceNamespacedService({ name: body.metadata!.name!, namespace: body.metadata!.namespace!, body });
  }

  /** Deletes; an object already gone is not an error. */
  async deleteDeployment(namespace: string, name: string): Promise<void> {
    await ignoreNotFound(this.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: "Background" }));
  }

  async deleteService(namespace: string, name: string): Promise<void> {
    await ignoreNotFound(this.core.deleteNamespacedService({ name, namespace }));
  }

  /** Sets metadata.finalizers, guarded by resourceVersion (a merge patch carrying it fails with 409 if stale). */
  async setFinalizers(fn: FunctionObject, finalizers: string[]): Promise<FunctionObject> {
    const { group, version, plural } = FUNCTION_API;
    return (await this.custom.patchNamespacedCustomObject(
      {
        group, version, plural, namespace: fn.metadata!.namespace!, name: fn.metadata!.name!,
        body: { metadata: { finalizers, resourceVersion: fn.metadata!.resourceVersion } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as FunctionObject;
  }

  /** PUT of the status subresource with the object's resourceVersion: 409 when the Function changed since it was read. */
  async writeStatus(fn: FunctionObject, status: FunctionStatus): Promise<FunctionObject> {
    const { group, version, plural } = FUNCTION_API;
    return (await this.custom.replaceNamespacedCustomObjectStatus({
      group, version, plural, namespace: fn.metadata!.namespace!, name: fn.metadata!.name!,
      body: { ...fn, status },
    })) as FunctionObject;
  }

  /** The Function as the apiserver has it now (after a conflict), or undefined when it is gone. */
  async readFunction(namespace: string, name: string): Promise<FunctionObject | undefined> {
    const { group, version, plural } = FUNCTION_API;
    try {
      return (await this.custom.getNamespacedCustomObject({ group, version, plural, namespace, name })) as FunctionObject;
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
