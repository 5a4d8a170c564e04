/**
 * The daemon's Prometheus metrics, kept as plain counters and rendered in the text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): findings by source and decision,
 * captures by outcome, finding → first containment time, queue lag, lease takeovers.
 */

/** Buckets (seconds) for the time from a finding's arrival to its first containment. */
const CONTAINMENT_BUCKETS_SECONDS = [1, 2, 5, 10, 20, 30, 60, 120, 300];

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Counters and gauges of one daemon. */
export class WatchMetrics {
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #gauges = new Map<string, Map<string, number>>();
  readonly #containment = { buckets: CONTAINMENT_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };

  count(name: string, labels: Labels = {}, by = 1): void {
    const series = this.#counters.get(name) ?? new Map<string, number>();
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + by);
    this.#counters.set(name, series);
  }

  gauge(name: string, value: number, labels: Labels = {}): void {
    const series = this.#gauges.get(name) ?? new Map<string, number>();
    series.set(labelText(labels), value);
    this.#gauges.set(name, series);
  }

  /** One finding's time to its first containment. */
  observeContainment(seconds: number): void {
    CONTAINMENT_BUCKETS_SECONDS.forEach((le, i) => {
      if (seconds <= le) this.#containment.buckets[i]!++;
    });
    this.#containment.sum += seconds;
    this.#containment.count++;
  }

  /** A counter's value (tests, the once summary). */
  value(name: string, labels: Labels = {}): number {
    return this.#counters.get(name)?.get(labelText(labels)) ?? 0;
  }

  /** The exposition text for /metrics. */
  render(): string {
    const lines: string[] = [];
    for (const [name, series] of this.#counters) {
      lines.push(`# TYPE ${name} counter`);
      for (const [labels, v] of series) lines.push(`${name}${labels} ${v}`);
    }
    for (const [name, series] of this.#gauges) {
      lines.push(`# TYPE ${name} gauge`);
      for (const [labels, v] of series) lines.push(`${name}${labels} ${v}`);
    }
    const h = 'holdfast_watch_finding_to_containment_seconds';
    lines.push(`# TYPE ${h} histogram`);
    CONTAINMENT_BUCKETS_SECONDS.forEach((le, i) =>
      lines.push(`${h}_bucket{le="${le}"} ${this.#containment.buckets[i]}`),
    );
    lines.push(`${h}_bucket{le="+Inf"} ${this.#containment.count}`);
    lines.push(`${h}_sum ${this.#containment.sum}`, `${h}_count ${this.#containment.count}`);
    return `${lines.join('\n')}\n`;
  }
}
