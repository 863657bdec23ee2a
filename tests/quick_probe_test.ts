import { Running, startConsumers, withSandbox } from "./test_util.ts";
const hwm = (pid: number) => {
  try {
    return /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))
      ?.[1];
  } catch {
    return "?";
  }
};
Deno.test({
  name: "probe",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const t0 = performance.now();
      const pos = new Running("pos", sandbox, [
        "--simulate",
        "--count",
        "20000",
        "--quiet",
      ]);
      let posHwm = "?";
      const poll = setInterval(() => {
        const v = hwm(pos.pid);
        if (v && v !== "?") posHwm = v;
      }, 50);
      await pos.exited();
      clearInterval(poll);
      const t1 = performance.now();
      await billing.waitFor(/Generating/, 20000, 120000);
      const t2 = performance.now();
      await inventory.waitFor(/Inventory update/, 20000, 120000);
      const t3 = performance.now();
      console.log(
        "pos",
        (t1 - t0).toFixed(0),
        "billing",
        (t2 - t0).toFixed(0),
        "inventory",
        (t3 - t0).toFixed(0),
        "rate",
        (20000 / ((Math.max(t2, t3) - t0) / 1000)).toFixed(0),
        "hwm pos",
        posHwm,
        "billing",
        hwm(billing.pid),
        "inventory",
        hwm(inventory.pid),
      );
      await billing.stop();
      await inventory.stop();
    });
  },
});
