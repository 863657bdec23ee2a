/**
 * Counters, gauges and histograms, and their Prometheus text exposition
 * (format 0.0.4). Counting costs a map lookup, so a service counts whether
 * or not anyone scrapes it.
 *
 * @module
 */

/** Label names and values of one series. */
export type Labels = Record<string, string>;

interface Series<T> {
  labels: Labels;
  value: T;
}

/** What every metric has. */
abstract class Metric<T> {
  /** The metric's name, e.g. `shoppingapp_messages_handled_total`. */
  readonly name: string;
  /** Its one line of help. */
  readonly help: string;
  protected readonly series = new Map<string, Series<T>>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  protected at(labels: Labels, initial: () => T): Series<T> {
    const key = keyOf(labels);
    let series = this.series.get(key);
    if (!series) {
      series = { labels, value: initial() };
      this.series.set(key, series);
    }
    return series;
  }

  /** The metric's lines of the exposition. */
  abstract expose(): string[];
}

/** A number that only goes up. */
export class Counter extends Metric<number> {
  /** Adds `amount` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, amount = 1): void {
    this.at(labels, () => 0).value += amount;
  }

  /** The value of the series of `labels`. */
  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  /** The sum over every series. */
  total(): number {
    let sum = 0;
    for (const { value } of this.series.values()) sum += value;
    return sum;
  }

  expose(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.series.values()].map(({ labels, value }) =>
        `${this.name}${labelText(labels)} ${value}`
      ),
    ];
  }
}

/** A number that goes up and down. */
export class Gauge extends Metric<number> {
  /** Sets the series of `labels` to `value`. */
  set(labels: Labels, value: number): void {
    this.at(labels, () => 0).value = value;
  }

  /** The value of the series of `labels`. */
  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  expose(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      ...[...this.series.values()].map(({ labels, value }) =>
        `${this.name}${labelText(labels)} ${value}`
      ),
    ];
  }
}

interface Buckets {
  counts: number[];
  sum: number;
  count: number;
}

/** Seconds from 1 ms to 10 s: confirms and commits. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** How observations spread over buckets. */
export class Histogram extends Metric<Buckets> {
  readonly #bounds: readonly number[];

  /** A histogram with the upper bounds `bounds` (+Inf is added). */
  constructor(name: string, help: string, bounds = SECONDS_BUCKETS) {
    super(name, help);
    this.#bounds = bounds;
  }

  /** Counts `value` in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const series = this.at(labels, () => ({
      counts: this.#bounds.map(() => 0),
      sum: 0,
      count: 0,
    })).value;
    const i = this.#bounds.findIndex((bound) => value <= bound);
    if (i >= 0) series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  expose(): string[] {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    ];
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += value.counts[i];
        lines.push(
          `${this.name}_bucket${
            labelText({ ...labels, le: String(bound) })
          } ${cumulative}`,
        );
      });
      lines.push(
        `${this.name}_bucket${
          labelText({ ...labels, le: "+Inf" })
        } ${value.count}`,
        `${this.name}_sum${labelText(labels)} ${value.sum}`,
        `${this.name}_count${labelText(labels)} ${value.count}`,
      );
    }
    return lines;
  }
}

/**
 * The text of each labels object, made once: a service counts every message
 * with the same few objects, and making the text each time was 1% of its
 * work. (Labels are not changed once used.)
 */
const keys = new WeakMap<Labels, string>();

function keyOf(labels: Labels): string {
  let key = keys.get(labels);
  if (key === undefined) {
    key = labelText(labels);
    keys.set(labels, key);
  }
  return key;
}

/** `{a="x",b="y"}`, escaped as the exposition format says; empty for none. */
function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) =>
    `${name}="${
      value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll(
        '"',
        '\\"',
      )
    }"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** The metrics of a process, and what is read only when scraped. */
export class Registry {
  readonly #metrics: { expose(): string[] }[] = [];
  readonly #collectors: (() => void | Promise<void>)[] = [];

  /** Registers `metric` and returns it. */
  add<M extends { expose(): string[] }>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** Runs `collect` before each exposition: a gauge read from a store. */
  onCollect(collect: () => void | Promise<void>): void {
    this.#collectors.push(collect);
  }

  /** The Prometheus text exposition of every metric. */
  async expose(): Promise<string> {
    // A store that fails now leaves the last values read: the scrape works.
    await Promise.allSettled(this.#collectors.map((collect) => collect()));
    return this.#metrics.flatMap((metric) => metric.expose()).join("\n") +
      "\n";
  }
}
