// Level 4: a citizen pays a fee the department asked for, online, through the built-in
// sandbox gateway (the real VNPay 2.1.0 protocol from the gateway's side), in the browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { api, upload } from "../lib/requests.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";

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

test("a citizen pays the fee online through the sandbox gateway", async () => {
  // An online dossier of Sở Xây dựng, accepted, transferred and assigned (through the API).
  const citizen = await signIn(browser, server.base, "congdan");
  await citizen.goto(`${server.base}/ca-nhan`);
  const agencies = await (await fetch(`${server.base}/api/v1/agencies`)).json();
  const dept = (Array.isArray(agencies) ? agencies : agencies.items).find((a) => a.name === "Sở Xây dựng");
  const list = await (await fetch(`${server.base}/api/v1/procedures?agency=${dept.code}&at_centre=true&limit=100`)).json();
  let procedure;
  for (const s of list.items.filter((s) => s.service_level >= 3)) {
    const full = await (await fetch(`${server.base}/api/v1/procedures/${s.code}`)).json();
    if (full.content.applicants.includes("citizen")) { procedure = full; break; }
  }
  assert.ok(procedure, "an online procedure for citizens");
  const documents = [];
  for (const [index, d] of procedure.content.documents.entries()) {
    if (d.required) documents.push({ index, files: [await upload(citizen, `giay-to-${index}.pdf`)] });
  }
  const filed = await api(citizen, "POST", "/api/v1/dossiers", {
    procedure: procedure.code,
    applicant: { kind: "citizen", name: "Nguyễn Thị Dân", id_number: "058190000123", phone: "0912345678", email: "congdan@example.vn", address: "Phan Rang - Tháp Chàm" },
    documents,
  });
  const code = filed.code;
  const counter = await signIn(browser, server.base, "tiepnhan");
  await api(counter, "POST", `/api/v1/dossiers/${code}/actions/accept`, {});
  await api(counter, "POST", `/api/v1/dossiers/${code}/actions/transfer`, {});

  // The department asks for the fee on its dossier page.
  const leader = await signIn(browser, server.base, "ld.xaydung");
  await leader.goto(`${server.base}/ho-so/${code}`);
  const ask = leader.locator("#action-request-payment");
  await ask.evaluate((f) => f.closest("details")?.setAttribute("open", ""));
  await ask.locator("#request-payment-amount").fill("150000");
  await Promise.all([leader.waitForEvent("load"), ask.locator('[type="submit"]').click()]);
  assert.match(await leader.locator("main").textContent(), /nghĩa vụ tài chính/);

  // The citizen pays online: our page → the gateway's page → back with the result.
  await citizen.goto(`${server.base}/ca-nhan/ho-so/${code}`);
  await Promise.all([
    citizen.waitForURL((u) => u.pathname === `/thanh-toan/ho-so/${code}`),
    citizen.getByRole("link", { name: /Nộp phí, lệ phí trực tuyến/ }).click(),
  ]);
  await shot(citizen, "web-payment-due");
  await Promise.all([
    citizen.waitForURL((u) => u.pathname.startsWith("/sandbox/")),
    citizen.locator("#pay-online button[type=submit]").click(),
  ]);
  assert.match(await citizen.locator("main").textContent(), /150\.000/);
  await shot(citizen, "web-payment-gateway");
  await Promise.all([
    citizen.waitForURL((u) => u.pathname.includes("/return") || u.pathname.startsWith("/thanh-toan")),
    citizen.locator("#sandbox-approve").click(),
  ]);
  const outcome = citizen.locator("#payment-outcome");
  await outcome.waitFor();
  assert.equal(await outcome.getAttribute("data-state"), "paid");
  await shot(citizen, "web-payment-result");

  // Paid once, and the dossier is being handled again.
  const dossier = await api(citizen, "GET", `/api/v1/dossiers/${code}`);
  assert.equal(dossier.status_code, 4);

  // The electronic receipt of the payment, from the payment page.
  await citizen.goto(`${server.base}/thanh-toan/ho-so/${code}`);
  const link = citizen.locator("a.receipt-link").first();
  await link.waitFor();
  const receipt = await citizen.request.get(server.base + (await link.getAttribute("href")));
  assert.equal(receipt.status(), 200);
  assert.equal(receipt.headers()["content-type"], "application/pdf");
  const pdfPath = join(mkdtempSync(join(tmpdir(), "motcua-receipt-")), "bien-lai.pdf");
  writeFileSync(pdfPath, await receipt.body());
  const text = execFileSync("pdftotext", ["-layout", pdfPath, "-"]).toString();
  assert.ok(text.includes(code), "the receipt names the dossier");
  assert.ok(text.includes("150.000"), "the receipt shows the amount paid");
});
