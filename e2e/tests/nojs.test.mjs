// The pages with JavaScript switched off (an old phone, a blocked script, a slow network
// where the script has not loaded yet): a wrong password shows its message, login works,
// a citizen files online with an upload, the counter receives a dossier with a scan, the
// receipt's codes track it, logout works — and no request the browser makes carries a
// password or the personal data typed in its address. Screenshots of the no-JavaScript
// login and filing go to docs/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { pdfFile } from "../lib/requests.mjs";
import { launch, shot, DEMO_PASSWORD } from "../lib/browser.mjs";

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

// The judicial record procedure: received at the centre and filed online.
const LLTP = "1.900141";

// What is typed in the forms below; none of it may appear in an address.
const SECRETS = {
  password: DEMO_PASSWORD,
  wrongPassword: "sai-mat-khau-123",
  citizenName: "Nguyễn Không Script",
  citizenId: "058190000777",
  citizenPhone: "0912000777",
  counterName: "Trần Quầy Không Script",
  counterId: "058190000888",
  counterPhone: "0912000888",
};

// A context with JavaScript off that records the address of every request it makes.
async function noScript() {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
  const urls = [];
  context.on("request", (r) => urls.push(r.url()));
  const page = await context.newPage();
  return { context, page, urls };
}

function assertNothingInAddresses(urls) {
  for (const raw of urls) {
    let url = raw;
    try { url = decodeURIComponent(raw.replace(/\+/g, " ")); } catch { /* keep raw */ }
    assert.ok(!/password=/i.test(raw), `a password field in ${raw}`);
    for (const [what, value] of Object.entries(SECRETS)) {
      assert.ok(!url.includes(value), `${what} in ${raw}`);
    }
  }
}

async function signInNoScript(page, username, password) {
  await page.goto(`${server.base}/dang-nhap`);
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(password);
  await Promise.all([
    page.waitForNavigation(),
    page.getByRole("button", { name: "Đăng nhập" }).click(),
  ]);
}

test("login, online filing with an upload, counter intake, tracking and logout, with JavaScript off", async () => {
  const files = mkdtempSync(join(tmpdir(), "motcua-e2e-nojs-"));

  // 1. A wrong password: the message, on the same page, and no password in the address.
  const citizen = await noScript();
  await signInNoScript(citizen.page, "congdan", SECRETS.wrongPassword);
  assert.equal(new URL(citizen.page.url()).pathname, "/dang-nhap");
  assert.match(await citizen.page.locator(".form-error").textContent(), /mật khẩu không đúng/);
  assert.equal(await citizen.page.getByLabel("Tên đăng nhập").inputValue(), "congdan");
  assert.equal(await citizen.page.getByLabel("Mật khẩu").inputValue(), "");
  await shot(citizen.page, "nojs-login-error");

  // 2. The right one: signed in, on to the citizen's area.
  await signInNoScript(citizen.page, "congdan", SECRETS.password);
  assert.equal(new URL(citizen.page.url()).pathname, "/ca-nhan");

  // 3. Online filing, every document with a file, sent as multipart when «Nộp hồ sơ» is
  // pressed.
  await citizen.page.goto(`${server.base}/ca-nhan/nop/${LLTP}`);
  await citizen.page.locator("#applicant-name").fill(SECRETS.citizenName);
  await citizen.page.locator("#applicant-id").fill(SECRETS.citizenId);
  await citizen.page.locator("#applicant-phone").fill(SECRETS.citizenPhone);
  const inputs = citizen.page.locator('#filing input[type="file"][name^="documents."]');
  const n = await inputs.count();
  assert.ok(n > 0, "the filing form asks for documents");
  for (let i = 0; i < n; i++) await inputs.nth(i).setInputFiles(pdfFile(files, `giay-to-${i + 1}.pdf`));
  await shot(citizen.page, "nojs-filing");
  await Promise.all([
    citizen.page.waitForNavigation(),
    citizen.page.locator("#submit-dossier").click(),
  ]);
  const filed = new URL(citizen.page.url());
  assert.ok(filed.pathname.startsWith("/ca-nhan/ho-so/"), `filed: ${filed} ${await citizen.page.locator(".form-error").textContent().catch(() => "")}`);
  const onlineCode = decodeURIComponent(filed.pathname.split("/").pop());
  assert.match(onlineCode, /^\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}$/);
  await shot(citizen.page, "nojs-filing-done");

  // 4. Logout, by the button in the header.
  await Promise.all([
    citizen.page.waitForNavigation(),
    citizen.page.getByRole("button", { name: "Đăng xuất" }).click(),
  ]);
  assert.equal(new URL(citizen.page.url()).pathname, "/");
  assert.ok(await citizen.page.getByRole("link", { name: "Đăng nhập" }).count());
  const after = await citizen.context.request.get(`${server.base}/api/v1/auth/me`);
  assert.equal(after.status(), 401, "the session has ended");

  // 5. The counter receives a dossier with a scan, accepts it, and reads the receipt.
  const counter = await noScript();
  await signInNoScript(counter.page, "tiepnhan", SECRETS.password);
  await counter.page.goto(`${server.base}/quay/tiep-nhan/${LLTP}`);
  await counter.page.locator("#applicant-name").fill(SECRETS.counterName);
  await counter.page.locator("#applicant-id").fill(SECRETS.counterId);
  await counter.page.locator("#applicant-phone").fill(SECRETS.counterPhone);
  const ticks = counter.page.locator("[data-tick]");
  for (let i = 0; i < (await ticks.count()); i++) await ticks.nth(i).check();
  await counter.page.locator('#intake input[type="file"][name^="documents."]').first().setInputFiles(pdfFile(files, "ban-quet.pdf"));
  await Promise.all([
    counter.page.waitForNavigation(),
    counter.page.locator("#accept").click(),
  ]);
  const receipt = new URL(counter.page.url());
  assert.ok(receipt.pathname.startsWith("/quay/bien-nhan/"), `receipt: ${receipt} ${await counter.page.locator(".form-error").textContent().catch(() => "")}`);
  const code = decodeURIComponent(receipt.pathname.split("/").pop());
  const secret = (await counter.page.locator("dt", { hasText: "Mã tra cứu" }).locator("xpath=following-sibling::dd[1]").textContent()).trim();

  // 6. Tracking with the receipt's codes (a GET form of those two codes only).
  const visitor = await noScript();
  await visitor.page.goto(`${server.base}/tra-cuu`);
  await visitor.page.getByLabel("Mã hồ sơ").fill(code);
  await visitor.page.getByLabel("Mã tra cứu").fill(secret);
  await Promise.all([
    visitor.page.waitForNavigation(),
    visitor.page.getByRole("button", { name: "Tra cứu" }).click(),
  ]);
  assert.equal(await visitor.page.locator("#track-status").getAttribute("data-status"), "2");

  for (const c of [citizen, counter, visitor]) {
    assertNothingInAddresses(c.urls);
    await c.context.close();
  }
});
