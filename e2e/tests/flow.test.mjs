// The whole life of an online dossier, through the pages, as the people who handle it:
// a citizen files online with uploads; the counter receives it and prints the receipt; the
// department asks for a supplement; the citizen supplements; the department finishes; the
// counter returns the result; the citizen tracks it (from the receipt's QR address) and
// rates the service. Screenshots of each desk are saved under docs/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { pdfFile } from "../lib/requests.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";
import { openAction, submitAndReload } from "../lib/actions.mjs";

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

// Clicks a submit button and waits for the page it leads to; if the form shows an error
// instead, fails with that error (what a person would read).
async function submitTo(page, button, urlMatches) {
  const form = button.locator("xpath=ancestor::form[1]");
  const error = form.locator(".form-error:not([hidden]), .field-error").first();
  const before = page.url();
  await button.click();
  const outcome = await Promise.race([
    page.waitForURL((u) => u.toString() !== before && urlMatches(u), { timeout: 20_000 }).then(() => "ok"),
    error.waitFor({ state: "visible", timeout: 20_000 }).then(() => "error"),
  ]);
  if (outcome === "error") assert.fail(`form refused on ${before}: ${await error.textContent()}`);
}

// A procedure of the construction department, received at the centre and filed online.
async function pickProcedure() {
  const agencies = await (await fetch(`${server.base}/api/v1/agencies`)).json();
  const list = Array.isArray(agencies) ? agencies : agencies.items;
  const dept = list.find((a) => a.name === "Sở Xây dựng");
  assert.ok(dept, "demo has Sở Xây dựng");
  const res = await fetch(`${server.base}/api/v1/procedures?agency=${dept.code}&at_centre=true&limit=100`);
  const page = await res.json();
  for (const s of page.items.filter((s) => s.service_level >= 3)) {
    const full = await (await fetch(`${server.base}/api/v1/procedures/${s.code}`)).json();
    if (full.content.applicants.includes("citizen")) return s.code;
  }
  assert.fail("an online procedure of Sở Xây dựng for citizens");
}

test("an online dossier from filing to rating, through the pages", async () => {
  const files = mkdtempSync(join(tmpdir(), "motcua-e2e-files-"));
  const procedure = await pickProcedure();

  // 1. The citizen files online, uploading each required document.
  const citizen = await signIn(browser, server.base, "congdan");
  await citizen.goto(`${server.base}/thu-tuc/${procedure}`);
  await Promise.all([
    citizen.waitForURL((u) => u.pathname === `/ca-nhan/nop/${procedure}`),
    citizen.getByRole("link", { name: "Nộp hồ sơ trực tuyến" }).first().click(),
  ]);
  await shot(citizen, "web-filing-applicant");
  const uploads = citizen.locator('#filing input[type="file"][data-upload^="documents."]');
  const n = await uploads.count();
  assert.ok(n > 0, "the filing form asks for documents");
  for (let i = 0; i < n; i++) {
    const input = uploads.nth(i);
    const id = await input.getAttribute("id");
    await input.setInputFiles(pdfFile(files, `giay-to-${i + 1}.pdf`, `Document ${i + 1}`));
    // The upload is done when its hidden id is in the form.
    await citizen.locator(`#${id} ~ ul.files input[type="hidden"], [data-files-for="${id}"] input[type="hidden"]`).first().waitFor({ state: "attached" }).catch(async () => {
      await citizen.waitForFunction((inputId) => {
        const el = document.getElementById(inputId);
        const sel = el && el.getAttribute("data-files");
        return sel && document.querySelector(sel) && document.querySelector(sel).querySelector('input[type="hidden"]');
      }, id);
    });
  }
  await shot(citizen, "web-filing-documents");
  await submitTo(citizen, citizen.locator("#submit-dossier"), (u) => u.pathname.startsWith("/ca-nhan/ho-so/"));
  const code = decodeURIComponent(new URL(citizen.url()).pathname.split("/").pop());
  assert.match(code, /^\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}$/, code);
  await shot(citizen, "web-filing-done");

  // 2. The counter receives it and prints the receipt.
  const counter = await signIn(browser, server.base, "tiepnhan");
  await counter.goto(`${server.base}/quay`);
  assert.ok(await counter.getByRole("link", { name: code }).count(), "the online dossier waits at the counter");
  await shot(counter, "web-counter-desk");
  await counter.goto(`${server.base}/ho-so/${code}`);
  await submitAndReload(counter, await openAction(counter, "accept"));
  const receipt = counter.getByRole("link", { name: /In phiếu tiếp nhận/ }).first();
  const href = await receipt.getAttribute("href");
  const pdf = await counter.request.get(server.base + href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const pdfPath = join(files, "receipt.pdf");
  writeFileSync(pdfPath, await pdf.body());
  const text = execFileSync("pdftotext", ["-layout", pdfPath, "-"]).toString();
  assert.ok(text.includes(code), "the receipt names the dossier");
  const trackUrl = text.match(/https?:\/\/\S+\/tra-cuu\/\S+/)[0];
  await submitAndReload(counter, await openAction(counter, "transfer"));

  // 3. The department: the leader assigns, the officer asks for a supplement.
  const leader = await signIn(browser, server.base, "ld.xaydung");
  await leader.goto(`${server.base}/xu-ly`);
  assert.ok(await leader.getByRole("link", { name: code }).count(), "the dossier is on the department's list");
  await shot(leader, "web-department-list");
  await leader.goto(`${server.base}/ho-so/${code}`);
  const assign = await openAction(leader, "assign");
  await assign.locator("select").first().selectOption({ label: /Hoàng Văn Dựng/ }).catch(async () => {
    const options = await assign.locator("select option").allTextContents();
    const i = options.findIndex((o) => o.includes("Hoàng Văn Dựng"));
    await assign.locator("select").first().selectOption({ index: i });
  });
  await submitAndReload(leader, assign);
  const officer = await signIn(browser, server.base, "cv.xaydung");
  await officer.goto(`${server.base}/ho-so/${code}`);
  await shot(officer, "web-dossier-page");
  const ask = await openAction(officer, "request-supplement");
  for (const area of await ask.locator("textarea").all()) await area.fill("Bản sao giấy tờ tùy thân có chứng thực");
  for (const input of await ask.locator('input[type="text"], input:not([type])').all()) await input.fill("Thiếu bản sao có chứng thực");
  await submitAndReload(officer, ask);

  // 4. The citizen supplements.
  await citizen.goto(`${server.base}/ca-nhan/ho-so/${code}`);
  const supplement = citizen.locator("#supplement");
  await supplement.locator('input[type="file"]').first().setInputFiles(pdfFile(files, "bo-sung.pdf", "Supplement"));
  await citizen.waitForFunction(() => document.querySelector('#supplement input[type="hidden"][data-label]'));
  await Promise.all([citizen.waitForEvent("load"), supplement.locator('[type="submit"]').click()]);

  // 5. The department finishes with a result document.
  await leader.goto(`${server.base}/ho-so/${code}`);
  const finish = await openAction(leader, "finish");
  await finish.locator('input[type="file"]').first().setInputFiles(pdfFile(files, "ket-qua.pdf", "Result"));
  await leader.waitForFunction(() => document.querySelector('#action-finish input[type="hidden"][data-label]'));
  await submitAndReload(leader, finish);

  // 6. The counter returns the result at the counter.
  await counter.goto(`${server.base}/ho-so/${code}`);
  await submitAndReload(counter, await openAction(counter, "return"));

  // 7. The citizen tracks it from the receipt's QR address, then rates the service.
  const anonymous = await (await browser.newContext({ locale: "vi-VN" })).newPage();
  const local = new URL(trackUrl);
  await anonymous.goto(server.base + local.pathname + local.search);
  assert.match(await anonymous.locator("main").textContent(), /Đã trả kết quả/);
  await shot(anonymous, "web-tracking");
  await citizen.goto(`${server.base}/ca-nhan/ho-so/${code}`);
  const rating = citizen.locator("#rating");
  await rating.locator('input[value="very_satisfied"]').check();
  await Promise.all([citizen.waitForEvent("load"), rating.locator('[type="submit"]').click()]);
  assert.match(await citizen.locator("main").textContent(), /Rất hài lòng/);

  // The director sees it on the overview.
  const director = await signIn(browser, server.base, "giamdoc");
  await director.goto(`${server.base}/lanh-dao`);
  await shot(director, "web-director-overview");
});
