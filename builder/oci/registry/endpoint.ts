// Where a registry named in an image reference is reached: Docker Hub's API host, and plain
// HTTP only for loopback registries or when insecure is asked for (DESIGN: build --image).

/** Whether a host[:port] is this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.startsWith("[") ? hostPort.slice(1, hostPort.indexOf("]")) : hostPort.replace(/:\d+$/, "");
  const name = host.toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The host serving a registry's API: Docker Hub's index names map to registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  const name = registry.toLowerCase();
  return name === "docker.io" || name === "index.docker.io" ? "registry-1.docker.io" : registry;
}

/** `http(s)://host[:port]` of a registry: http on loopback or when insecure, else https. */
export function registryBaseUrl(registry: string, options: { insecure?: boolean } = {}): string {
  const host = registryApiHost(registry);
  const scheme = options.insecure || isLoopbackHost(host) ? "http" : "https";
  return `${scheme}://${host}`;
}
