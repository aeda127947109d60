// axe-core (npm `axe-core`, read from node_modules: nothing is downloaded) with the
// WCAG 2.1 A and AA rules, injected into a page through playwright-core. The page's
// context must be made with bypassCSP: true (the pages allow only their own scripts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
export const WCAG21 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

// Runs axe on the page as it stands; returns one line per failing element:
// `label: [rule] target — help (what to fix)`.
export async function axeViolations(page, label) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary || "" })),
    }));
  }, WCAG21);
  const lines = [];
  for (const v of result) {
    for (const n of v.nodes) {
      const why = n.summary ? ` (${n.summary.replace(/\s+/g, " ").slice(0, 240)})` : "";
      lines.push(`${label}: [${v.id}] ${n.target} — ${v.help}${why}`);
    }
  }
  return lines;
}
