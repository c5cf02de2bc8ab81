import type { V1Endpoint, V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { countReady, makeReplicaIndex, parseEndpointSlice, readyEndpoints } from "./endpoints.ts";

const REV = "hello-0123456789ab";

function slice(endpoints: V1Endpoint[], more: Partial<V1EndpointSlice> = {}, labels: Record<string, string> = {}): V1EndpointSlice {
  return {
    addressType: "IPv4",
    metadata: { name: `${REV}-x`, labels: { "kubernetes.io/service-name": REV, "skiff.dev/revision": REV, "skiff.dev/function": "hello", ...labels } },
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints,
    ...more,
  };
}

function pod(name: string, ip: string, conditions?: V1Endpoint["conditions"]): V1Endpoint {
  return { addresses: [ip], ...(conditions ? { conditions } : {}), targetRef: { kind: "Pod", name, namespace: "apps" } };
}

describe("parseEndpointSlice", () => {
  it("maps ready, serving and terminating onto the local replica phases", () => {
    const replicas = parseEndpointSlice(slice([
      pod("a", "10.0.0.1", { ready: true, serving: true, terminating: false }),
      pod("b", "10.0.0.2", { ready: false, serving: false, terminating: false }),
      pod("c", "10.0.0.3", { ready: false, serving: true, terminating: true }),
      pod("d", "10.0.0.4", { ready: false, serving: false, terminating: true }),
      pod("e", "10.0.0.5"),
    ]));
    expect(replicas.map((r) => [r.id, r.phase, r.serving])).toEqual([
      ["a", "ready", true], ["b", "starting", false], ["c", "draining", true], ["d", "draining", false], ["e", "ready", true],
    ]);
    expect(replicas[0]).toEqual({ id: "a", fn: "hello", revision: REV, url: "http://10.0.0.1:8080", phase: "ready", serving: true });
  });

  it("brackets IPv6 addresses and uses the first of several", () => {
    const [replica] = parseEndpointSlice(slice([{ addresses: ["fd00::1", "fd00::2"], targetRef: { name: "a" } }], { addressType: "IPv6" }));
    expect(replica!.url).toBe("http://[fd00::1]:8080");
  });

  it("falls back to the service name and the revision id without skiff labels", () => {
    const bare = slice([pod("a", "10.0.0.1")]);
    bare.metadata!.labels = { "kubernetes.io/service-name": REV };
    expect(parseEndpointSlice(bare)[0]).toMatchObject({ fn: "hello", revision: REV });
  });

  it("lists nothing for a slice without a revision, a port, or endpoints", () => {
    const unlabelled = slice([pod("a", "10.0.0.1")]);
    unlabelled.metadata!.labels = {};
    expect(parseEndpointSlice(unlabelled)).toEqual([]);
    expect(parseEndpointSlice(slice([pod("a", "10.0.0.1")], { ports: [{ name: "http" }] }))).toEqual([]);
    expect(parseEndpointSlice(slice([pod("a", "10.0.0.1")], { ports: [{ name: "metrics", port: 9090 }, { name: "grpc", port: 9000 }] }))).toEqual([]);
    expect(parseEndpointSlice({ ...slice([]), endpoints: null as unknown as V1Endpoint[] })).toEqual([]);
  });

  it("takes the only port when it has another name", () => {
    expect(parseEndpointSlice(slice([pod("a", "10.0.0.1")], { ports: [{ port: 9999 }] }))[0]!.url).toBe("http://10.0.0.1:9999");
  });
});

describe("makeReplicaIndex", () => {
  it("groups by revision, one entry per pod even when it is in two slices, the less routable state winning", () => {
    const other = "hello-ba9876543210";
    const index = makeReplicaIndex([
      slice([pod("a", "10.0.0.1", { ready: true }), pod("b", "10.0.0.2", { ready: true })]),
      slice([pod("a", "10.0.0.1", { ready: false, serving: true, terminating: true })]),
      slice([pod("z", "10.0.1.1", { ready: true })], {}, { "skiff.dev/revision": other, "kubernetes.io/service-name": other }),
    ]);
    expect([...index.keys()].sort()).toEqual([other, REV].sort());
    expect(index.get(REV)!.map((r) => [r.id, r.phase])).toEqual([["a", "draining"], ["b", "ready"]]);
    expect(readyEndpoints(index.get(REV))).toEqual([{ id: "b", url: "http://10.0.0.2:8080" }]);
    expect(countReady(index.get(REV))).toBe(1);
    expect(countReady(index.get("missing"))).toBe(0);
    expect(readyEndpoints(undefined)).toEqual([]);
  });
});
