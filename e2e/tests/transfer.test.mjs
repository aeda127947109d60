// Fees paid by bank transfer (issue 24): the citizen's payment page shows a VietQR code
// for the demo's collecting account; two independent readers agree on what it carries —
// zbarimg (zbar-tools) reads the code from the page as drawn and from the fee notice PDF,
// and the npm package vietnam-qr-pay decodes the payload (bank, account, amount,
// reference, CRC). Then the counter officer imports the bank's statement, which settles
// the order once and lists the credit that matches nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QRPay } from "vietnam-qr-pay";
import { startServer } from "../lib/server.mjs";
import { api, upload } from "../lib/requests.mjs";
import { launch, signIn, shot } from "../lib/browser.mjs";
import { axeViolations } from "../lib/axe.mjs";

// The demo's collecting account (config.rs, BankAccount::demo).
const DEMO_BIN = "970436";
const DEMO_ACCOUNT = "0071000123456";

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

// What zbarimg reads from an image file: one line per code.
function zbar(path) {
  return execFileSync("zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path]).toString().trim().split("\n");
}

// An online dossier of Sở Xây dựng filed by the demo citizen, waiting for a fee of `amount`.
async function awaitingPayment(citizen, amount) {
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
  const counter = await signIn(browser, server.base, "tiepnhan");
  await api(counter, "POST", `/api/v1/dossiers/${filed.code}/actions/accept`, {});
  await api(counter, "POST", `/api/v1/dossiers/${filed.code}/actions/transfer`, {});
  const leader = await signIn(browser, server.base, "ld.xaydung");
  await api(leader, "POST", `/api/v1/dossiers/${filed.code}/actions/request-payment`, { amount, note: "Lệ phí cấp giấy phép" });
  return filed.code;
}

test("a fee paid by bank transfer: the VietQR code decodes independently, the statement settles it once", async () => {
  // bypassCSP lets the accessibility check inject axe-core (as tests/a11y.test.mjs does).
  const citizen = await signIn(browser, server.base, "congdan", undefined, { bypassCSP: true });
  await citizen.goto(`${server.base}/ca-nhan`);
  const code = await awaitingPayment(citizen, 150000);

  // The citizen asks to pay by transfer on the payment page; the page shows the code.
  await citizen.goto(`${server.base}/thanh-toan/ho-so/${code}`);
  await Promise.all([citizen.waitForEvent("load"), citizen.locator("#pay-transfer button[type=submit]").click()]);
  const box = citizen.locator("section.vietqr").first();
  await box.waitFor();
  const reference = (await box.locator(".vietqr-reference").textContent()).trim();
  assert.match(reference, /^MC[0-9A-F]{14}$/);
  assert.match(await box.textContent(), /Một trăm năm mươi nghìn đồng/);
  await shot(citizen, "web-payment-vietqr");
  assert.deepEqual(await axeViolations(citizen, "payment page with VietQR"), []);

  // zbarimg reads the code as the browser drew it.
  const dir = mkdtempSync(join(tmpdir(), "motcua-vietqr-"));
  const png = join(dir, "page-qr.png");
  await box.locator("figure.vietqr-code svg").screenshot({ path: png });
  const [fromPage] = zbar(png);
  assert.equal(fromPage, await box.locator("figure.vietqr-code").getAttribute("data-payload"));

  // vietnam-qr-pay decodes it to the demo's account, the amount and the order's reference.
  const qr = new QRPay(fromPage);
  assert.equal(qr.isValid, true, "valid CRC and structure");
  assert.equal(qr.provider.guid, "A000000727");
  assert.equal(qr.provider.service, "QRIBFTTA");
  assert.equal(qr.consumer.bankBin, DEMO_BIN);
  assert.equal(qr.consumer.bankNumber, DEMO_ACCOUNT);
  assert.equal(qr.amount, "150000");
  assert.equal(qr.currency, "704");
  assert.equal(qr.nation, "VN");
  assert.equal(qr.additionalData.purpose, reference);
  // A changed amount no longer checks out.
  assert.equal(new QRPay(fromPage.replace("5406150000", "5406950000")).isValid, false);

  // The fee notice (PDF) carries the same code.
  const notice = await citizen.request.get(server.base + (await box.locator("a.notice-link").getAttribute("href")));
  assert.equal(notice.status(), 200);
  const pdf = join(dir, "thong-bao.pdf");
  writeFileSync(pdf, await notice.body());
  execFileSync("pdftoppm", ["-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile", pdf, join(dir, "notice")]);
  assert.deepEqual(zbar(join(dir, "notice.png")), [fromPage]);
  const text = execFileSync("pdftotext", ["-layout", pdf, "-"]).toString();
  assert.ok(text.includes(reference) && text.includes(DEMO_ACCOUNT), text);

  // The bank's statement comes in: the counter officer imports it on the statements page.
  const statement = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>E2E-1</MsgId><CreDtTm>2026-11-02T18:00:00+07:00</CreDtTm></GrpHdr>
<Stmt><Id>E2E-1</Id><Acct><Id><Othr><Id>${DEMO_ACCOUNT}</Id></Othr></Id></Acct>
<Ntry><Amt Ccy="VND">150000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>${new Date().toISOString().slice(0, 10)}</Dt></BookgDt><AcctSvcrRef>FT-E2E-0001</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>NGUYEN THI DAN ${reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="VND">20000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>${new Date().toISOString().slice(0, 10)}</Dt></BookgDt><AcctSvcrRef>FT-E2E-0002</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>chuyen nham</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
  const file = join(dir, "sao-ke.xml");
  writeFileSync(file, statement);
  const counter = await signIn(browser, server.base, "tiepnhan", undefined, { bypassCSP: true });
  const importOnce = async () => {
    await counter.goto(`${server.base}/thanh-toan/sao-ke`);
    await counter.locator("#statement-file").setInputFiles(file);
    await Promise.all([counter.waitForEvent("load"), counter.locator("#statement-import button[type=submit]").click()]);
    return counter.locator("#statement-report");
  };
  const report = await importOnce();
  assert.equal(await report.getAttribute("data-settled"), "1");
  assert.equal(await report.getAttribute("data-listed"), "1");
  assert.match(await counter.locator("#statement-open").textContent(), /FT-E2E-0002/);
  await shot(counter, "web-payment-statement");
  assert.deepEqual(await axeViolations(counter, "statements page"), []);
  // Paid once: the dossier is being handled again, and a second import changes nothing.
  assert.equal((await api(citizen, "GET", `/api/v1/dossiers/${code}`)).status_code, 4);
  const again = await importOnce();
  assert.equal(await again.getAttribute("data-settled"), "0");
  assert.equal(await again.getAttribute("data-already"), "2");
  await citizen.goto(`${server.base}/thanh-toan/ho-so/${code}`);
  await citizen.locator("a.receipt-link").first().waitFor();
});
