// Phone widths, forbidden pages and the public pages, in a real browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { launch, signIn, shot, horizontalOverflow } from "../lib/browser.mjs";

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

const PHONE = { width: 360, height: 740 };

test("public pages render at 360 px without horizontal scrolling", async () => {
  const context = await browser.newContext({ viewport: PHONE, locale: "vi-VN" });
  const page = await context.newPage();
  for (const path of ["/", "/thu-tuc?q=ho+tich", "/thu-tuc/1.900141", "/tra-cuu", "/thong-ke", "/dang-nhap", "/dang-ky"]) {
    const res = await page.goto(server.base + path);
    assert.equal(res.status(), 200, path);
    assert.ok((await horizontalOverflow(page)) <= 0, `${path} scrolls sideways at 360 px`);
  }
  await context.close();
});

test("each desk renders at 360 px without horizontal scrolling", async () => {
  for (const [user, path] of [
    ["congdan", "/ca-nhan"],
    ["tiepnhan", "/quay"],
    ["ld.xaydung", "/xu-ly"],
    ["ld.xaydung", "/don-vi"],
    ["giamdoc", "/lanh-dao/bao-cao"],
    ["giamdoc", "/lanh-dao"],
    ["quantri", "/quan-tri"],
  ]) {
    const page = await signIn(browser, server.base, user, PHONE);
    const res = await page.goto(server.base + path);
    assert.equal(res.status(), 200, `${user} ${path}`);
    assert.ok((await horizontalOverflow(page)) <= 0, `${path} scrolls sideways at 360 px for ${user}`);
    await page.context().close();
  }
});

test("a signed-in page sends anonymous visitors to the login page and back", async () => {
  const context = await browser.newContext({ locale: "vi-VN" });
  const page = await context.newPage();
  await page.goto(server.base + "/quay");
  assert.equal(new URL(page.url()).pathname, "/dang-nhap");
  await page.getByLabel("Tên đăng nhập").fill("tiepnhan");
  await page.getByLabel("Mật khẩu").fill("motcua-demo-2019");
  await Promise.all([
    page.waitForURL((u) => u.pathname === "/quay"),
    page.getByRole("button", { name: "Đăng nhập" }).click(),
  ]);
  await context.close();
});

test("a wrong password is said next to the form and keeps what was typed", async () => {
  const context = await browser.newContext({ locale: "vi-VN" });
  const page = await context.newPage();
  await page.goto(server.base + "/dang-nhap");
  await page.getByLabel("Tên đăng nhập").fill("tiepnhan");
  await page.getByLabel("Mật khẩu").fill("not-the-password");
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  const alert = page.locator(".form-error");
  await alert.waitFor({ state: "visible" });
  assert.match(await alert.textContent(), /mật khẩu/i);
  assert.equal(await page.getByLabel("Tên đăng nhập").inputValue(), "tiepnhan");
  await context.close();
});

test("a page of another role says 403", async () => {
  const page = await signIn(browser, server.base, "tiepnhan");
  const res = await page.goto(server.base + "/quan-tri");
  assert.equal(res.status(), 403);
  assert.match(await page.locator("main").textContent(), /không có quyền/);
  await page.context().close();
});

test("screenshots of the public pages", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
  const page = await context.newPage();
  await page.goto(server.base + "/");
  await shot(page, "web-home");
  await page.goto(server.base + "/thu-tuc/1.900141");
  await shot(page, "web-procedure");
  await page.setViewportSize(PHONE);
  await page.goto(server.base + "/thu-tuc/1.900141");
  await shot(page, "web-procedure-phone");
  await context.close();
});
