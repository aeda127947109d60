// Accessibility as a standing test: axe-core (npm `axe-core`, injected from node_modules,
// never downloaded) runs with the WCAG 2.1 A and AA rules on every main page of every
// role, the public pages and the 404 page, at a desktop width and, for a few pages, on a
// 360 px phone. Each test fails listing every violation: rule, element, page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { launch, signIn } from "../lib/browser.mjs";
import { axeViolations } from "../lib/axe.mjs";

const PHONE = { width: 360, height: 740 };
const LLTP = "1.900141";

let server;
let browser;
// A dossier the counter received (so the lists, the dossier pages and the dashboards have
// something to show): its code and tracking secret.
const received = { code: null, secret: null };

before(async () => {
  server = await startServer();
  browser = await launch();
  const dir = mkdtempSync(join(tmpdir(), "motcua-a11y-"));
  const scan = join(dir, "ban-quet.pdf");
  writeFileSync(scan, "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
  // Received with JavaScript off: the form posts by itself to the intake route.
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "vi-VN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/dang-nhap`);
  await page.getByLabel("Tên đăng nhập").fill("tiepnhan");
  await page.getByLabel("Mật khẩu").fill("motcua-demo-2019");
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Đăng nhập" }).click()]);
  await page.goto(`${server.base}/quay/tiep-nhan/${LLTP}`);
  await page.locator("#applicant-name").fill("Lê Thị Kiểm Thử");
  await page.locator("#applicant-id").fill("058190000999");
  await page.locator("#applicant-phone").fill("0912000999");
  const ticks = page.locator("[data-tick]");
  for (let i = 0; i < (await ticks.count()); i++) await ticks.nth(i).check();
  await page.locator('#intake input[type="file"][name^="documents."]').first().setInputFiles(scan);
  await Promise.all([page.waitForNavigation(), page.locator("#accept").click()]);
  const receipt = new URL(page.url());
  const why = await page.locator(".form-error, .error-summary").first().innerText().catch(() => "");
  assert.ok(receipt.pathname.startsWith("/quay/bien-nhan/"), `the counter receives a dossier: ${why}`);
  received.code = decodeURIComponent(receipt.pathname.split("/").pop());
  received.secret = (await page.locator("dt", { hasText: "Mã tra cứu" }).locator("xpath=following-sibling::dd[1]").textContent()).trim();
  await context.close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Visits each path (or a function giving one) and collects the violations of all of them.
async function check(page, paths, label) {
  const found = [];
  for (const p of paths) {
    const path = typeof p === "function" ? await p(page) : p;
    if (!path) continue;
    const res = await page.goto(server.base + path);
    const status = res?.status();
    if (!path.startsWith("/khong-co") && status !== 200) {
      found.push(`${label} ${path}: answered ${status}`);
      continue;
    }
    found.push(...(await axeViolations(page, `${label} ${path}`)));
  }
  return found;
}

function report(found) {
  assert.equal(found.length, 0, `${found.length} accessibility violations (WCAG 2.1 A/AA):\n${found.join("\n")}`);
}

async function anonymous(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: "vi-VN", bypassCSP: true });
  return context.newPage();
}

async function as(user, viewport) {
  const page = await signIn(browser, server.base, user, viewport, { bypassCSP: true });
  return page;
}

// The first link on `from` whose address matches `pattern`, for pages that need a code.
function firstLink(from, pattern) {
  return async (page) => {
    await page.goto(server.base + from);
    const hrefs = await page.$$eval("main a[href]", (as) => as.map((a) => a.getAttribute("href")));
    return hrefs.find((h) => pattern.test(h)) ?? null;
  };
}

// The tracking result of the dossier received, through the tracking form.
async function trackingResult(page) {
  if (!received.code) return null;
  await page.goto(server.base + "/tra-cuu");
  await page.getByLabel("Mã hồ sơ").fill(received.code);
  await page.getByLabel("Mã tra cứu").fill(received.secret);
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Tra cứu" }).click()]);
  const u = new URL(page.url());
  return u.pathname + u.search;
}

const receiptPage = () => received.code && `/quay/bien-nhan/${encodeURIComponent(received.code)}`;
const dossierPage = () => received.code && `/ho-so/${encodeURIComponent(received.code)}`;

const PUBLIC = [
  "/", "/thu-tuc", "/thu-tuc?q=ho+tich", "/thu-tuc?agency=&online=full", `/thu-tuc/${LLTP}`, "/tra-cuu", trackingResult,
  "/thong-ke", "/dang-nhap", "/dang-ky", "/lay-so", "/lay-so?ma=123456", "/khong-co-trang-nay",
];

const ROLES = [
  ["congdan", ["/ca-nhan", `/ca-nhan/nop/${LLTP}`, "/doi-mat-khau", firstLink("/ca-nhan", /^\/ca-nhan\/ho-so\//)]],
  ["tiepnhan", ["/quay", "/quay?tab=ket-qua", `/quay/tiep-nhan/${LLTP}`, "/quay/danh-gia", receiptPage, dossierPage]],
  ["cv.tuphap", ["/xu-ly", firstLink("/xu-ly", /^\/ho-so\//)]],
  ["cv.xaydung", ["/xu-ly", firstLink("/xu-ly", /^\/ho-so\//)]],
  ["ld.xaydung", ["/xu-ly", "/don-vi", "/don-vi?period=nam", "/don-vi/ho-so?metric=received&period=nam", "/don-vi/qua-han", firstLink("/xu-ly", /^\/ho-so\//)]],
  ["giamdoc", [
    "/lanh-dao", "/lanh-dao?period=nam", dossierPage, "/lanh-dao?period=khoang&from=01/01/2020&to=31/12/2020",
    "/lanh-dao/ho-so?metric=received&period=nam", "/lanh-dao/qua-han", "/lanh-dao/bao-cao",
    "/lanh-dao/danh-gia", "/lanh-dao/khong-hai-long", "/lanh-dao/phieu-danh-gia", "/lanh-dao/chi-so-phuc-vu",
  ]],
  ["danhmuc", ["/quan-tri", "/quan-tri/thu-tuc", "/quan-tri/thu-tuc/moi", `/quan-tri/thu-tuc/${LLTP}`, "/quan-tri/co-quan"]],
  ["quantri", [
    "/quan-tri", "/quan-tri/nguoi-dung", firstLink("/quan-tri/nguoi-dung", /^\/quan-tri\/nguoi-dung\/[^/?]+$/),
    "/quan-tri/ma-truy-cap", "/quan-tri/lich", "/quan-tri/lich?ngay=2026-09-02", "/quan-tri/nhat-ky",
    "/quan-tri/quy-dinh", "/van-hanh/chuyen-phat",
  ]],
];

test("axe: the public pages and the 404 page have no WCAG 2.1 A/AA violation", async () => {
  const page = await anonymous();
  const found = await check(page, PUBLIC, "anonymous");
  await page.context().close();
  report(found);
});

for (const [user, paths] of ROLES) {
  test(`axe: ${user}'s pages have no WCAG 2.1 A/AA violation`, async () => {
    const page = await as(user);
    const found = await check(page, paths, user);
    await page.context().close();
    report(found);
  });
}

test("axe: pages on a 360 px phone have no WCAG 2.1 A/AA violation", async () => {
  const found = [];
  const anon = await anonymous(PHONE);
  found.push(...(await check(anon, ["/", "/thu-tuc", `/thu-tuc/${LLTP}`, "/thong-ke"], "anonymous@360")));
  await anon.context().close();
  for (const [user, paths] of [
    ["giamdoc", ["/lanh-dao", "/lanh-dao/bao-cao"]],
    ["ld.xaydung", ["/don-vi", "/xu-ly"]],
    ["tiepnhan", ["/quay"]],
    ["congdan", ["/ca-nhan"]],
  ]) {
    const page = await as(user, PHONE);
    found.push(...(await check(page, paths, `${user}@360`)));
    await page.context().close();
  }
  report(found);
});

test("the header marks the current page and /favicon.ico answers", async () => {
  const page = await as("giamdoc");
  await page.goto(server.base + "/lanh-dao");
  const current = page.locator('header nav [aria-current="page"]');
  assert.equal(await current.count(), 1);
  assert.equal((await current.textContent()).trim(), "Tổng quan");
  await page.goto(server.base + "/lanh-dao/qua-han");
  assert.equal(await page.locator('header nav [aria-current="page"]').count(), 0, "a page under the area is not the area's page itself");
  assert.equal(await page.locator('header nav a[href="/lanh-dao"]').count(), 1);
  const icon = await page.request.get(server.base + "/favicon.ico");
  assert.equal(icon.status(), 200);
  await page.context().close();
});

// WCAG technique C40: a ring of two colours 9:1 or more apart always has one of them
// 3:1 or more against whatever is behind it; here both backgrounds are checked too.
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

async function focusRing(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    const halo = (s.boxShadow.match(/rgba?\([^)]*\)/) || [""])[0];
    return { tag: el.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, halo };
  });
}

function assertRing(ring, background, where) {
  assert.notEqual(ring.style, "none", where);
  assert.ok(ring.width >= 2, `${where}: outline ${ring.width}px`);
  assert.ok(ring.halo, `${where}: no halo around the ring`);
  assert.ok(contrast(ring.color, ring.halo) >= 9, `${where}: ring ${ring.color} and halo ${ring.halo} too alike`);
  const best = Math.max(contrast(ring.color, background), contrast(ring.halo, background));
  assert.ok(best >= 3, `${where}: ring on ${background} only ${best.toFixed(2)}:1`);
}

test("a focused control shows a ring of at least 3:1 against what is behind it", async () => {
  const page = await as("ld.xaydung");
  await page.goto(server.base + "/don-vi");
  const band = await page.evaluate(() => getComputedStyle(document.querySelector("header.top")).backgroundColor);
  await page.keyboard.press("Tab"); // skip link
  await page.keyboard.press("Tab"); // the brand, on the red header
  let ring = await focusRing(page);
  assert.equal(ring.tag, "A");
  assertRing(ring, band, "header link");
  // A field, a button and an expandable section on white.
  for (const selector of ["#period", "#period-form button[type=submit]", "details.chart-data summary"]) {
    await page.focus(selector);
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    ring = await focusRing(page);
    assertRing(ring, "rgb(255, 255, 255)", selector);
  }
  await page.context().close();
});

test("a textarea shows the same ring", async () => {
  const page = await as("danhmuc");
  await page.goto(server.base + "/quan-tri/thu-tuc/moi");
  await page.focus("textarea");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  const ring = await focusRing(page);
  assert.equal(ring.tag, "TEXTAREA");
  assertRing(ring, "rgb(255, 255, 255)", "textarea");
  await page.context().close();
});
