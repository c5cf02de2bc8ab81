// The address fake pods bind and their EndpointSlices carry. kube-apiserver rejects loopback
// (127.0.0.0/8, ::1), unspecified and link-local addresses in an EndpointSlice (discovery/v1
// validation: "may not be in the loopback range"), so 127.0.0.1 cannot be written. The least
// bad stand-in is another address of this machine: replicas bind only that one address (never
// 0.0.0.0), and the gateway reaches them at exactly the URL the slice names.
import { isIPv4, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";

/** An address for EndpointSlice endpoints, with the slice's addressType. */
export interface NodeAddress {
  readonly address: string;
  readonly addressType: "IPv4" | "IPv6";
}

/** Addresses the apiserver refuses in a slice: loopback, unspecified, link-local (and IPv4-mapped IPv6, to be safe). */
export function isRejectedSliceAddress(address: string): boolean {
  if (isIPv4(address)) return /^(127\.|0\.|169\.254\.)/.test(address);
  const lower = address.toLowerCase();
  return lower === "::1" || lower === "::" || /^fe[89ab]/.test(lower) || lower.startsWith("::ffff:");
}

/** `address` checked, or this machine's first non-loopback IPv4 (else IPv6) address the apiserver accepts. */
export function pickNodeAddress(address?: string): NodeAddress {
  if (address !== undefined) {
    const addressType = isIPv4(address) ? "IPv4" : isIPv6(address) ? "IPv6" : undefined;
    if (!addressType) throw new Error(`fake node address "${address}" is not an IP address`);
    if (isRejectedSliceAddress(address)) {
      throw new Error(`fake node address ${address} is loopback, unspecified or link-local, which kube-apiserver rejects in EndpointSlices`);
    }
    return { address, addressType };
  }
  const candidates = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((nic) => !nic.internal && !isRejectedSliceAddress(nic.address));
  const pick = candidates.find((nic) => nic.family === "IPv4") ?? candidates.find((nic) => nic.family === "IPv6");
  if (!pick) {
    throw new Error(
      "the fake node needs a non-loopback address of this machine: kube-apiserver rejects 127.0.0.1 and ::1 in EndpointSlices, and no other interface has an address",
    );
  }
  return { address: pick.address, addressType: pick.family === "IPv4" ? "IPv4" : "IPv6" };
}
