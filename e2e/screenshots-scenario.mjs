// Screenshots of the dashboards on the reference scenario (the centre's first month,
// 12/06–05/07/2019), served from a data directory the scenario was played into (see
// screenshots-scenario.sh). Checks the figures the page shows against the reference
// (1.538 received, 1.333 resolved, 1.264 returned, nothing overdue) and that no page
// scrolls sideways on a 360 px phone, that axe-core finds no WCAG 2.1 A/AA violation on
// the dashboards full of data (charts, tables, links), then saves
// docs/screenshots/web-dashboard-*.png (at 1280 px and 360 px).
import assert from "node:assert/strict";
import { launch, signIn, shot, horizontalOverflow } from "./lib/browser.mjs";
import { axeViolations } from "./lib/axe.mjs";

const base = process.env.MOTCUA_BASE;
if (!base) throw new Error("MOTCUA_BASE must name the running server");
const PERIOD = "period=khoang&from=2019-06-12&to=2019-07-05";
const PHONE = { width: 360, height: 780 };

async function totals(page) {
  return page.locator("#overview tfoot td.num").allInnerTexts();
}

const browser = await launch();
const violations = [];
async function axeCheck(page, label) {
  violations.push(...(await axeViolations(page, label)));
}
try {
  const director = await signIn(browser, base, "giamdoc", undefined, { bypassCSP: true });
  await director.goto(`${base}/lanh-dao?${PERIOD}`);
  const t = await totals(director);
  // Received, in progress (on time, overdue), resolved (early, on time, late), rate, returned.
  assert.equal(t[0], "1.538", `received: ${t}`);
  const resolved = [3, 4, 5].map((i) => Number(t[i].replaceAll(".", ""))).reduce((a, b) => a + b, 0);
  assert.equal(resolved, 1333, `resolved: ${t}`);
  assert.equal(t[2], "0", `overdue: ${t}`);
  assert.equal(t[7], "1.264", `returned: ${t}`);
  assert.match(await director.locator("#trend-h + figure desc").innerHTML(), /Tiếp nhận 1\.538; Đã giải quyết 1\.333/);
  assert.equal(await horizontalOverflow(director), 0);
  await shot(director, "web-dashboard-director");
  await axeCheck(director, `/lanh-dao?${PERIOD}`);
  await director.goto(`${base}/lanh-dao/qua-han`);
  await axeCheck(director, "/lanh-dao/qua-han");
  await director.goto(`${base}/lanh-dao/ho-so?metric=received&${PERIOD}`);
  await axeCheck(director, "/lanh-dao/ho-so");

  const phone = await signIn(browser, base, "giamdoc", PHONE, { bypassCSP: true });
  await phone.goto(`${base}/lanh-dao?${PERIOD}`);
  assert.equal(await horizontalOverflow(phone), 0, "the director's dashboard fits a 360 px phone");
  await shot(phone, "web-dashboard-director-phone");
  await axeCheck(phone, `/lanh-dao?${PERIOD} at 360 px`);

  const leader = await signIn(browser, base, "ld.xaydung", undefined, { bypassCSP: true });
  await leader.goto(`${base}/don-vi?${PERIOD}`);
  assert.match(await leader.locator("h1").innerText(), /Sở Xây dựng/);
  assert.equal(await horizontalOverflow(leader), 0);
  await shot(leader, "web-dashboard-department");
  await axeCheck(leader, `/don-vi?${PERIOD}`);
  const leaderPhone = await signIn(browser, base, "ld.xaydung", PHONE, { bypassCSP: true });
  await leaderPhone.goto(`${base}/don-vi?${PERIOD}`);
  assert.equal(await horizontalOverflow(leaderPhone), 0, "the department dashboard fits a 360 px phone");
  await shot(leaderPhone, "web-dashboard-department-phone");
  await axeCheck(leaderPhone, `/don-vi?${PERIOD} at 360 px`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN", bypassCSP: true });
  const visitor = await context.newPage();
  // The scenario is 2019: the public page shows that year.
  await visitor.goto(`${base}/thong-ke?nam=2019`);
  assert.match(await visitor.locator("#trend-h + figure desc").innerHTML(), /Tiếp nhận 1\.538; Đã giải quyết 1\.333/);
  assert.equal(await horizontalOverflow(visitor), 0);
  await shot(visitor, "web-public-statistics");
  await axeCheck(visitor, "/thong-ke?nam=2019");
  const phoneContext = await browser.newContext({ viewport: PHONE, locale: "vi-VN", bypassCSP: true });
  const phoneVisitor = await phoneContext.newPage();
  await phoneVisitor.goto(`${base}/thong-ke?nam=2019`);
  assert.equal(await horizontalOverflow(phoneVisitor), 0, "the public statistics fit a 360 px phone");
  await shot(phoneVisitor, "web-public-statistics-phone");
  await axeCheck(phoneVisitor, "/thong-ke?nam=2019 at 360 px");
  assert.equal(violations.length, 0, `${violations.length} accessibility violations (WCAG 2.1 A/AA):\n${violations.join("\n")}`);
  console.log("dashboards: figures match the reference scenario; screenshots saved");
} finally {
  await browser.close();
}
