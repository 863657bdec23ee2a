/**
 * Where a service's CPU time goes, from the V8 profile `--cpu-prof` writes:
 * self time by function and by the package or file it lives in.
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or place, in milliseconds and share. */
export interface Hotspot {
  /** The function (`name file:line`) or the place (a package, a file). */
  name: string;
  /** Milliseconds of self time. */
  ms: number;
  /** Share of the samples that were not idle, in percent. */
  percent: number;
}

/** A profile's summary. */
export interface ProfileSummary {
  /** Milliseconds of samples that were not idle. */
  busyMs: number;
  /** The functions with the most self time. */
  functions: Hotspot[];
  /** Self time by package (npm) or by file of ours, or by V8's own work. */
  places: Hotspot[];
}

/** Where a frame lives: `npm:zod`, `lib/store/store.ts`, `(garbage collector)`. */
function placeOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (!url) return `(${functionName || "native"})`;
  const npm = /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  const ours = /\/((?:lib|services|contracts|tools|bench)\/[^/]+)$/.exec(url);
  if (ours) return ours[1];
  if (url.startsWith("ext:") || url.startsWith("node:")) {
    return url.split("/")[0] + (url.includes("node") ? " (node compat)" : "");
  }
  return url.replace(/^.*\//, "");
}

/** Summarises the profile in `path`: the top `limit` functions and places. */
export async function summarizeProfile(
  path: string,
  limit = 12,
): Promise<ProfileSummary> {
  const profile: Profile = JSON.parse(await Deno.readTextFile(path));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") {
      continue;
    }
    busy += ms;
    const name = `${frame.functionName || "(anonymous)"} ${placeOf(frame)}:${
      frame.lineNumber + 1
    }`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const place = placeOf(frame);
    places.set(place, (places.get(place) ?? 0) + ms);
  }
  const top = (entries: Map<string, number>) =>
    [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit).map((
      [name, ms],
    ) => ({
      name,
      ms: Math.round(ms),
      percent: Math.round((ms / busy) * 1000) / 10,
    }));
  return {
    busyMs: Math.round(busy),
    functions: top(functions),
    places: top(places),
  };
}
