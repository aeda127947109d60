// Errors where people look: a keyboard-only online filing with a blank name and no files.
// Every problem comes back at once in the summary next to «Nộp hồ sơ», the summary takes
// the focus, each problem links to its field, and each field is marked invalid with its
// message. Also with JavaScript off: the summary by the button, the first faulty field
// focused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";

const LLTP = "1.900141";

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const focusedId = (page) => page.evaluate(() => document.activeElement?.id || "");

test("a keyboard-only filing with mistakes moves focus to the summary of every problem", async () => {
  const page = await signIn(browser, server.base, "congdan");
  await page.goto(`${server.base}/ca-nhan/nop/${LLTP}`);
  // Only the keyboard from here: into the name field, clear it, then Tab to the button.
  await page.locator("#applicant-name").focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  let steps = 0;
  while ((await focusedId(page)) !== "submit-dossier") {
    await page.keyboard.press("Tab");
    steps += 1;
    assert.ok(steps < 300, "Tab reaches «Nộp hồ sơ»");
  }
  await page.keyboard.press("Enter");
  const summary = page.locator("#error-summary");
  await summary.waitFor({ state: "visible" });
  await page.waitForFunction(() => document.activeElement?.id === "error-summary");
  const items = await summary.locator("li").allTextContents();
  assert.ok(items.length >= 2, `every problem at once: ${items.join(" | ")}`);
  assert.ok(items.some((t) => /không được để trống/.test(t)), items.join(" | "));
  assert.ok(items.some((t) => /Còn thiếu/.test(t)), items.join(" | "));
  // Next to the action: the summary ends within a screen above the button.
  const box = await summary.boundingBox();
  const button = await page.locator("#submit-dossier").boundingBox();
  assert.ok(button.y - (box.y + box.height) < 200, `summary by the button (${box.y}, ${button.y})`);
  // The name field is marked, its message tied to it.
  const name = page.locator("#applicant-name");
  assert.equal(await name.getAttribute("aria-invalid"), "true");
  const described = await name.getAttribute("aria-describedby");
  assert.match(await page.locator(`#${described}`).textContent(), /không được để trống/);
  // Each problem links to a field on the page.
  const links = await summary.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  for (const href of links) assert.equal(await page.locator(href).count(), 1, href);
  // Tab goes from the summary to its first link.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.closest("#error-summary") !== null), true);
  await shot(page, "error-summary");
  await page.context().close();
});

test("without JavaScript the summary stands by the button and the first faulty field has the focus", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/dang-nhap`);
  await page.getByLabel("Tên đăng nhập").fill("congdan");
  await page.getByLabel("Mật khẩu").fill("motcua-demo-2019");
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Đăng nhập" }).click()]);
  await page.goto(`${server.base}/ca-nhan/nop/${LLTP}`);
  await page.locator("#applicant-name").fill("");
  await Promise.all([page.waitForNavigation(), page.locator("#submit-dossier").click()]);
  const items = await page.locator("#error-summary li").allTextContents();
  assert.ok(items.length >= 2, items.join(" | "));
  assert.equal(await focusedId(page), "applicant-name", "the first faulty field is focused");
  await context.close();
});
