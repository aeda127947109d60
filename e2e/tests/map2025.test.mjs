// The 2025 map (issue 23), through the pages of a server started with the Khánh Hòa demo
// (MOTCUA_DEMO_MAP=khanh-hoa-2025): a dossier received at phường Nha Trang's centre, handed
// to Sở Tư pháp, which decides it, back at the commune centre and returned there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { api, pdfFile } from "../lib/requests.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";
import { openAction, submitAndReload } from "../lib/actions.mjs";

// The judicial record certificate: province level, receivable at any centre in the demo.
const JUDICIAL_RECORD = "1.900141";
const NHA_TRANG_CENTRE = "000.01.31.H32";
const JUSTICE = "000.00.03.H32";

let server;
let browser;
before(async () => {
  server = await startServer({ MOTCUA_DEMO_MAP: "khanh-hoa-2025" });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a dossier received at a commune centre, decided by a department, returned where it was received", async () => {
  const files = mkdtempSync(join(tmpdir(), "motcua-e2e-map-"));

  // 1. The counter of phường Nha Trang's centre receives it, with JavaScript off: the form
  //    posts by itself.
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "vi-VN" });
  const desk = await context.newPage();
  await desk.goto(`${server.base}/dang-nhap`);
  await desk.getByLabel("Tên đăng nhập").fill("nhatrang.tiepnhan");
  await desk.getByLabel("Mật khẩu").fill("motcua-demo-2019");
  await Promise.all([desk.waitForNavigation(), desk.getByRole("button", { name: "Đăng nhập" }).click()]);
  await desk.goto(`${server.base}/quay/tiep-nhan/${JUDICIAL_RECORD}`);
  await desk.locator("#applicant-name").fill("Nguyễn Thị Biển");
  await desk.locator("#applicant-id").fill("056190000321");
  await desk.locator("#applicant-phone").fill("0912345678");
  const ticks = desk.locator("[data-tick]");
  for (let i = 0; i < (await ticks.count()); i++) await ticks.nth(i).check();
  await desk.locator('#intake input[type="file"][name^="documents."]').first().setInputFiles(pdfFile(files, "to-khai.pdf"));
  await Promise.all([desk.waitForNavigation(), desk.locator("#accept").click()]);
  const receipt = new URL(desk.url());
  const why = await desk.locator(".form-error, .error-summary").first().innerText().catch(() => "");
  assert.ok(receipt.pathname.startsWith("/quay/bien-nhan/"), `the commune centre receives it: ${why}`);
  const code = decodeURIComponent(receipt.pathname.split("/").pop());
  assert.ok(code.startsWith(`${NHA_TRANG_CENTRE}-`), `the code carries the receiving centre: ${code}`);
  assert.match(await desk.locator("body").innerText(), /Trung tâm Phục vụ hành chính công phường Nha Trang/);
  await shot(desk, "map2025-commune-receipt");
  await context.close();

  // 2. The counter hands it to the competent department.
  const counter = await signIn(browser, server.base, "nhatrang.tiepnhan");
  await counter.goto(`${server.base}/ho-so/${code}`);
  await submitAndReload(counter, await openAction(counter, "transfer"));
  const handed = await api(counter, "GET", `/api/v1/dossiers/${code}`);
  assert.equal(handed.current_agency, JUSTICE);

  // 3. Sở Tư pháp: the leader assigns it, then signs the result.
  const leader = await signIn(browser, server.base, "kh.ld.tuphap");
  await leader.goto(`${server.base}/xu-ly`);
  assert.ok(await leader.getByRole("link", { name: code }).count(), "the dossier is on the department's list");
  await leader.goto(`${server.base}/ho-so/${code}`);
  const assign = await openAction(leader, "assign");
  const options = await assign.locator("select option").allTextContents();
  const who = options.findIndex((o) => o.includes("Võ Văn Luật"));
  assert.ok(who >= 0, `the department's officer is offered: ${options}`);
  await assign.locator("select").first().selectOption({ index: who });
  await submitAndReload(leader, assign);
  await leader.goto(`${server.base}/ho-so/${code}`);
  const finish = await openAction(leader, "finish");
  await finish.locator('input[type="file"]').first().setInputFiles(pdfFile(files, "phieu-lltp.pdf", "Result"));
  await leader.waitForFunction(() => document.querySelector('#action-finish input[type="hidden"][data-label]'));
  await submitAndReload(leader, finish);

  // 4. Back at phường Nha Trang's centre, which returns it.
  const back = await api(counter, "GET", `/api/v1/dossiers/${code}`);
  assert.equal(back.current_agency, NHA_TRANG_CENTRE, "the result comes back to the receiving centre");
  await counter.goto(`${server.base}/ho-so/${code}`);
  await shot(counter, "map2025-commune-result-back");
  await submitAndReload(counter, await openAction(counter, "return"));
  const returned = await api(counter, "GET", `/api/v1/dossiers/${code}`);
  assert.equal(returned.status_code, 10);
  assert.equal(returned.receiving_agency, NHA_TRANG_CENTRE);
  assert.equal(returned.responsible_agency, JUSTICE);
});
