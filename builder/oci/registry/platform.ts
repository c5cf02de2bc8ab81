// Choosing one image from an index (or Docker manifest list) by platform: os/architecture and
// the CPU variant, normalised the way containerd does (arm64 means v8, arm means v7 unless
// said otherwise), skipping BuildKit's attestation entries.
import { ociArchitecture } from "../image.ts";

/** An OCI platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An index entry, as much of it as selection needs. */
export interface PlatformEntry {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

/** Parses `os/arch[/variant]`, e.g. `linux/arm64/v8`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || variant === "") {
    throw new Error(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? "?", p.architecture ?? "?", ...(p.variant ? [p.variant] : [])].join("/");
}

/** The platform this process runs on (Linux images only: that is what replicas run). */
export function hostPlatform(nodeArch: string = process.arch, armVersion?: string): Platform {
  const architecture = ociArchitecture(nodeArch);
  if (architecture !== "arm") return { os: "linux", architecture };
  const version = armVersion ?? String((process.config.variables as Record<string, unknown>).arm_version ?? "7");
  return { os: "linux", architecture, variant: `v${version.replace(/^v/, "")}` };
}

/** The variant an architecture means when none is written (containerd's normalisation). */
export function normalizeVariant(architecture: string, variant: string | undefined): string {
  const v = variant === undefined || variant === "" ? "" : variant.startsWith("v") ? variant : `v${variant}`;
  if (v !== "") return v;
  if (architecture === "arm64") return "v8";
  if (architecture === "arm") return "v7";
  if (architecture === "amd64") return "v1";
  return "";
}

/** BuildKit adds provenance/SBOM manifests to indexes with platform unknown/unknown. */
function isAttestation(entry: PlatformEntry): boolean {
  return entry.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || entry.platform?.os === "unknown";
}

/**
 * Picks the index entry for `want`. With no variant asked for, the architecture's default
 * variant wins and any other variant of the same os/arch is the fallback; an asked-for variant
 * must match. Throws, listing what the index has, when nothing fits.
 */
export function selectPlatformEntry<T extends PlatformEntry>(entries: readonly T[], want: Platform): T {
  const usable = entries.filter((e) => !isAttestation(e));
  const sameArch = usable.filter((e) => e.platform?.os === want.os && e.platform?.architecture === want.architecture);
  const wantVariant = normalizeVariant(want.architecture, want.variant);
  const exact = sameArch.find((e) => normalizeVariant(want.architecture, e.platform?.variant) === wantVariant);
  const chosen = exact ?? (want.variant === undefined ? sameArch[0] : undefined);
  if (chosen) return chosen;
  const has = usable.map((e) => formatPlatform(e.platform ?? {})).join(", ") || "no platforms";
  throw new Error(`no ${formatPlatform(want)} image in the index (it has ${has})`);
}
