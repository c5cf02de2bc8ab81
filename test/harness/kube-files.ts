// The files a throwaway kube-apiserver reads and its clients use: a static token file (who is
// who), a service-account signing key, and kubeconfigs. Tokens instead of client certificates:
// Node has no X.509 issuing API, and a token file needs no CA of our own.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** A user the apiserver authenticates by bearer token. */
export interface KubeUserSpec {
  /** User name as RBAC subjects see it (`kind: User, name: ...`). */
  readonly name: string;
  /** Extra groups; every token user is also in system:authenticated. */
  readonly groups?: readonly string[];
}

/** A user with its generated token. */
export interface KubeUserToken extends KubeUserSpec {
  readonly token: string;
}

/** Gives each user a fresh random token and writes the --token-auth-file CSV. */
export function writeTokenFile(path: string, users: readonly KubeUserSpec[]): KubeUserToken[] {
  const withTokens = users.map((user) => ({ ...user, token: randomBytes(24).toString("hex") }));
  // token,user,uid,"group1,group2" — groups quoted because they are comma-separated.
  const lines = withTokens.map((u) => `${u.token},${u.name},${u.name},"${(u.groups ?? []).join(",")}"`);
  writeFileSync(path, lines.join("\n") + "\n", { mode: 0o600 });
  return withTokens;
}

/** Writes an RSA key pair for signing service-account tokens; the apiserver refuses to start without one. */
export function writeServiceAccountKeys(dir: string): { publicKeyFile: string; privateKeyFile: string } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const publicKeyFile = join(dir, "sa.pub");
  const privateKeyFile = join(dir, "sa.key");
  writeFileSync(publicKeyFile, publicKey);
  writeFileSync(privateKeyFile, privateKey, { mode: 0o600 });
  return { publicKeyFile, privateKeyFile };
}

/** Writes a kubeconfig for one user that kubectl and @kubernetes/client-node both load. */
export function writeKubeconfig(path: string, options: { server: string; caData: string; user: string; token: string }): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "skiff-test", cluster: { server: options.server, "certificate-authority-data": options.caData } }],
    users: [{ name: options.user, user: { token: options.token } }],
    contexts: [{ name: options.user, context: { cluster: "skiff-test", user: options.user } }],
    "current-context": options.user,
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
