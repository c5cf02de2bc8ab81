// A minimal Prometheus registry: counters, gauges and histograms with fixed label sets.
// Hand-written rather than prom-client because it sits on every request's hot path and in
// every function bundle, where boot time and bytes count; it only needs the text format.

type Labels = Record<string, string>;

/** Formats a label set as `{a="x",b="y"}` with Prometheus escaping. */
function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

interface Metric {
  render(): string;
}

/** A monotonically increasing count, one series per label value set. */
export class Counter implements Metric {
  private readonly series = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `by` (default 1) to the series for `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const key = formatLabels(labels);
    this.series.set(key, (this.series.get(key) ?? 0) + by);
  }
  /**
   * Hot-path increment for a {kind, code} series: the label text is built once per pair,
   * not on every request.
   */
  inc2(kind: string, code: number): void {
    const cacheKey = `${kind} ${code}`;
    let key = this.keyCache.get(cacheKey);
    if (key === undefined) {
      key = formatLabels({ kind, code: String(code) });
      this.keyCache.set(cacheKey, key);
    }
    this.series.set(key, (this.series.get(key) ?? 0) + 1);
  }
  private readonly keyCache = new Map<string, string>();
  /** Current value of one series (tests and summaries). */
  get(labels: Labels = {}): number {
    return this.series.get(formatLabels(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [key, value] of this.series) out += `${this.name}${key} ${value}\n`;
    return out;
  }
}

/** A value read at scrape time. */
export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number) {}
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${this.name} ${this.read()}\n`;
  }
}

/** Cumulative buckets of observed values in seconds. */
export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }
  /** Records one observation. */
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i]!;
      out += `${this.name}_bucket{le="${bound}"} ${cumulative}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

/** Latency buckets from 1 ms to 60 s. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Renders metrics in the Prometheus text exposition format. */
export class Registry {
  private readonly metrics: Metric[] = [];
  /** Registers and returns a metric. */
  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join("");
  }
}
