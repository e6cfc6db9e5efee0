import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints the ten slowest test files after a run, so that whoever makes the suite faster starts
 * where the time goes. Figures only: no file fails for being slow (speed is measured in bench/).
 */
export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const timed = modules.map((module) => {
      const d = module.diagnostic();
      return { file: module.relativeModuleId, ms: d.duration + d.collectDuration + d.setupDuration };
    });
    const slowest = timed.sort((a, b) => b.ms - a.ms).slice(0, 10);
    if (slowest.length === 0) return;
    const lines = slowest.map(({ file, ms }) => `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
    console.log(`\nSlowest test files (tests, hooks and imports; files run in parallel):\n${lines.join("\n")}\n`);
  }
}
