// Debian's chromium, headless, driven by playwright-core (no browser download ever).
import { chromium } from "playwright-core";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, "..", "..", "docs", "screenshots");

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (p && existsSync(p)) return p;
  }
  throw new Error("chromium not found: run scripts/deps.sh (Debian package `chromium`) or set CHROMIUM");
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--lang=vi-VN"],
  });
}

export const DEMO_PASSWORD = "motcua-demo-2019";

// A signed-in page for a demo account, through the login form like a person.
// `options` adds to the context's options (bypassCSP for the accessibility checks, say).
export async function signIn(browser, base, username, viewport = { width: 1280, height: 900 }, options = {}) {
  const context = await browser.newContext({ viewport, locale: "vi-VN", ...options });
  const page = await context.newPage();
  page.on("pageerror", (e) => { throw new Error(`script error on ${page.url()}: ${e.message}`); });
  await page.goto(`${base}/dang-nhap`);
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(DEMO_PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith("/dang-nhap")),
    page.getByRole("button", { name: "Đăng nhập" }).click(),
  ]);
  return page;
}

export async function shot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Fails when the page scrolls sideways at its current width.
export async function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
