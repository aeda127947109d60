// The document store in a browser (issue 24): a citizen puts a practising certificate in
// their store from /kho-giay-to, then files online a procedure whose checklist asks for
// it, ticking «Dùng giấy tờ đã có» instead of uploading it again (with the page's script,
// so the JSON filing carries the choice). The dossier records the reuse by reference and
// its page links the stored document; the store counts the use. Screenshots of the store
// and the filing form's offer go to docs/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { pdfFile } from "../lib/requests.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";
import { axeViolations } from "../lib/axe.mjs";

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

// A procedure of the demo that a citizen files online and whose checklist asks for the
// original of a practising certificate already issued: its code and that row's index.
async function renewal() {
  const agencies = await (await fetch(`${server.base}/api/v1/agencies`)).json();
  const dept = (Array.isArray(agencies) ? agencies : agencies.items).find((a) => a.name === "Sở Xây dựng");
  const q = encodeURIComponent("chứng chỉ hành nghề");
  const list = await (await fetch(`${server.base}/api/v1/procedures?agency=${dept.code}&limit=100&q=${q}`)).json();
  for (const s of list.items) {
    if (s.name.startsWith("Cấp chứng chỉ")) continue;
    const full = await (await fetch(`${server.base}/api/v1/procedures/${s.code}`)).json();
    const c = full.content;
    if (!(c.service_level >= 3 || c.online_mode === "full") || c.applicants[0] !== "citizen") continue;
    const row = c.documents.findIndex((d) => {
      const n = d.name.toLowerCase();
      return n.includes("chứng chỉ hành nghề") && n.startsWith("bản gốc");
    });
    if (row >= 0) return { code: s.code, row, documents: c.documents };
  }
  assert.fail("a construction procedure filed online that asks for a practising certificate");
}

test("a document in the citizen's store is reused in online filing", async () => {
  const files = mkdtempSync(join(tmpdir(), "motcua-e2e-store-"));
  const procedure = await renewal();
  const citizen = await signIn(browser, server.base, "congdan", undefined, { bypassCSP: true });

  // 1. The citizen adds their certificate to the store.
  await citizen.goto(`${server.base}/kho-giay-to`);
  await citizen.getByLabel("Loại giấy tờ", { exact: true }).selectOption({ label: "Chứng chỉ hành nghề" });
  await citizen.getByLabel("Số, ký hiệu", { exact: true }).fill("NIT-00123456");
  await citizen.getByLabel("Cơ quan cấp", { exact: true }).fill("Sở Xây dựng tỉnh Ninh Thuận");
  await citizen.getByLabel("Ngày cấp", { exact: true }).fill("2026-01-15");
  await citizen.getByLabel(/^Tệp/).setInputFiles(pdfFile(files, "chung-chi.pdf"));
  await Promise.all([citizen.waitForEvent("load"), citizen.getByRole("button", { name: "Thêm vào kho" }).click()]);
  await citizen.locator("body", { hasText: "NIT-00123456" }).first().waitFor();
  await shot(citizen, "documents-store");
  assert.deepEqual(await axeViolations(citizen, "/kho-giay-to"), []);

  // 2. Online filing offers it under the row that asks for it.
  await citizen.goto(`${server.base}/ca-nhan/nop/${procedure.code}`);
  const offer = citizen.locator(`input[name="documents.${procedure.row}.stored[]"]`);
  assert.equal(await offer.count(), 1, "the stored certificate is offered once");
  await offer.check();
  await offer.scrollIntoViewIfNeeded();
  await shot(citizen, "documents-reuse-offer");
  assert.deepEqual(await axeViolations(citizen, "/ca-nhan/nop/{code}"), []);

  // The other required rows get an upload each; the reused row gets none.
  for (const [i, d] of procedure.documents.entries()) {
    if (!d.required || i === procedure.row) continue;
    await citizen.locator(`#doc-${i}`).setInputFiles(pdfFile(files, `giay-to-${i}.pdf`));
    await citizen.waitForFunction((index) => {
      const input = document.getElementById(`doc-${index}`);
      const list = input.getAttribute("data-files");
      return list && document.querySelector(`${list} input[type="hidden"]`);
    }, i);
  }
  const before = citizen.url();
  await citizen.locator("#submit-dossier").click();
  const error = citizen.locator("#filing .form-error:not([hidden]), #filing .field-error").first();
  const outcome = await Promise.race([
    citizen.waitForURL((u) => u.toString() !== before && u.pathname.startsWith("/ca-nhan/ho-so/"), { timeout: 20_000 }).then(() => "ok"),
    error.waitFor({ state: "visible", timeout: 20_000 }).then(() => "error"),
  ]);
  if (outcome === "error") assert.fail(`filing refused: ${await error.textContent()}`);
  const code = decodeURIComponent(new URL(citizen.url()).pathname.split("/").pop());

  // 3. The dossier records the reuse by reference, and its page links the stored file.
  const dossier = await (await citizen.request.get(`${server.base}/api/v1/dossiers/${encodeURIComponent(code)}`)).json();
  assert.equal(dossier.reused.length, 1, JSON.stringify(dossier.reused));
  assert.equal(dossier.reused[0].index, procedure.row);
  assert.equal(dossier.reused[0].kind, "chung-chi-hanh-nghe");
  const id = dossier.reused[0].document;
  assert.ok(await citizen.locator(`a[href="/api/v1/documents/${id}/file"]`).count(), "the dossier's page links the stored document");
  const mine = await (await citizen.request.get(`${server.base}/api/v1/documents`)).json();
  const stored = mine.flatMap((s) => s.documents).find((d) => d.id === id);
  assert.equal(stored.uses, 1, "the store counts the use");
});
