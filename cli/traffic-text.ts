import { parseTraffic, type TrafficTarget } from "../controller/store/index.ts";

/** Parses `rev-a=90,rev-b=10` (Knative-style traffic on the command line) and validates it like the API does. */
export function parseTrafficText(text: string): TrafficTarget[] {
  const entries = text.split(",").map((part) => part.trim()).filter(Boolean);
  const targets = entries.map((entry) => {
    const match = /^([^=\s]+)=(\d+)%?$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not <revision>=<percent>`);
    return { revision: match[1]!, percent: Number(match[2]) };
  });
  return parseTraffic(targets);
}
