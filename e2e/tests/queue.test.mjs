// The counter queue in a browser (issue 21): the hall's board follows a kiosk's ticket and
// a counter's call within a second and announces it; a citizen books a slot on the portal,
// checks the code in at the kiosk, and is called before an earlier walk-in; the ticket's
// phone page moves with the line; the officer receives a dossier from the ticket called
// and the receipt shows its number. Priority tickets follow the fair rule, and two
// counters calling at the same instant get different tickets. The centre's calendar is opened all day every day and
// today made a working day, so the test does not depend on the hour it runs at (the
// kiosk issues tickets only in working sessions).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/server.mjs";
import { api, pdfFile } from "../lib/requests.mjs";
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

// Today in Vietnam, YYYY-MM-DD.
function vietnamToday() {
  return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

// A device page (kiosk or board) activated with `token` at `activate`.
async function device(activate, token, viewport) {
  // bypassCSP lets axe inject its script; the page's own scripts are files either way.
  const context = await browser.newContext({ viewport, locale: "vi-VN", bypassCSP: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => { throw new Error(`script error on ${page.url()}: ${e.message}`); });
  await page.goto(server.base + activate);
  await page.getByLabel("Mã thiết bị").fill(token);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/kich-hoat")), page.getByRole("button", { name: "Kích hoạt" }).click()]);
  return page;
}

// Opens the centre all day, every day, and makes today a working day whatever the date.
async function openAllDay(admin) {
  await api(admin, "PUT", "/api/v1/calendar/week", { sessions: [{ start: "00:00", end: "24:00" }], weekdays: [1, 2, 3, 4, 5, 6, 7] });
  await admin.request.fetch(`${server.base}/api/v1/calendar/days/${vietnamToday()}`, {
    method: "PUT",
    headers: { "x-csrf-token": await admin.locator('meta[name="csrf-token"]').getAttribute("content"), "content-type": "application/json" },
    data: JSON.stringify({ kind: "working_day", reason: "Kiểm thử xếp hàng" }),
  });
}

// The kiosk takes a ticket of the group whose button reads `group` (a priority ticket
// from the priority screen when `priority`); its printed number.
async function take(kiosk, group, priority = false) {
  await kiosk.goto(`${server.base}/may-lay-so${priority ? "/uu-tien" : ""}`);
  await Promise.all([kiosk.waitForURL(/\/may-lay-so\/in\//), kiosk.getByRole("button", { name: group }).click()]);
  return (await kiosk.locator("#ticket-number").innerText()).trim();
}

async function waitingOf(board, letter) {
  const row = board.locator("#board-waiting li", { hasText: `${letter} · ` });
  return Number(await row.locator("strong").innerText());
}

test("the board follows the kiosk and the counter, a booking is called first", async () => {
  const admin = await signIn(browser, server.base, "quantri");
  const officer = await signIn(browser, server.base, "tiepnhan");
  await openAllDay(admin);
  const setup = await api(admin, "GET", "/api/v1/queue/setup");
  const groupA = setup.groups.find((g) => g.letter === "A");
  const counter1 = setup.counters.find((c) => c.number === 1);
  await api(admin, "PUT", "/api/v1/queue/booking", {
    settings: { slot_minutes: 10, per_person_per_day: 1, days_ahead: 7 },
    capacities: [{ group: groupA.id, capacity: 5 }],
  });
  const kioskToken = (await api(admin, "POST", "/api/v1/queue/kiosks", { name: "Sảnh tầng 1" })).token;
  const boardToken = (await api(admin, "POST", "/api/v1/queue/kiosks", { name: "Màn hình sảnh" })).token;

  const board = await device("/bang-hien-thi/kich-hoat", boardToken, { width: 1920, height: 1080 });
  await board.waitForFunction(() => document.body.hasAttribute("data-updated"));
  const before = await waitingOf(board, "A");

  // The kiosk takes a walk-in ticket: the board's waiting count rises.
  const kiosk = await device("/may-lay-so/kich-hoat", kioskToken, { width: 1080, height: 1920 });
  await shot(kiosk, "queue-kiosk");
  await kiosk.goto(`${server.base}/may-lay-so/danh-gia`);
  assert.deepEqual(await axeViolations(kiosk, "/may-lay-so/danh-gia"), []);
  await kiosk.goto(`${server.base}/may-lay-so`);
  await Promise.all([kiosk.waitForURL(/\/may-lay-so\/in\//), kiosk.getByRole("button", { name: /Đất đai/ }).click()]);
  const walkIn = (await kiosk.locator("#ticket-number").innerText()).trim();
  assert.match(walkIn, /^A\d{3}$/);
  await board.waitForFunction((n) => {
    const row = [...document.querySelectorAll("#board-waiting li")].find((li) => li.textContent.startsWith("A · "));
    return row && Number(row.querySelector("strong").textContent) === n;
  }, before + 1, { timeout: 1000 });

  // A citizen books the next slot on the portal and checks the code in at the kiosk.
  const citizen = await signIn(browser, server.base, "congdan", undefined, { bypassCSP: true });
  await citizen.goto(`${server.base}/dat-lich?nhom=${groupA.id}&ngay=${vietnamToday()}`);
  assert.deepEqual(await axeViolations(citizen, "/dat-lich"), []);
  await citizen.locator('input[name="gio"]:not([disabled])').first().check();
  await Promise.all([citizen.waitForURL(/\/dat-lich\/[A-Z0-9]{8}$/), citizen.getByRole("button", { name: "Đặt lịch" }).click()]);
  const code = (await citizen.locator("#booking-code").innerText()).trim();
  await shot(citizen, "queue-booking");
  assert.deepEqual(await axeViolations(citizen, "/dat-lich/{code}"), []);
  await kiosk.goto(`${server.base}/may-lay-so`);
  await kiosk.getByLabel(/mã lịch hẹn/).fill(code);
  await Promise.all([kiosk.waitForURL(/\/may-lay-so\/in\//), kiosk.getByRole("button", { name: "Lấy số theo lịch hẹn" }).click()]);
  const booked = (await kiosk.locator("#ticket-number").innerText()).trim();
  assert.notEqual(booked, walkIn);
  const phonePath = new URL(kiosk.url()).pathname.replace("/may-lay-so/in/", "/so-thu-tu/");

  // The walk-in's phone page follows the line.
  const phone = await browser.newPage({ viewport: { width: 360, height: 740 } });
  await phone.goto(server.base + phonePath);
  await phone.waitForFunction(() => document.getElementById("ticket").hasAttribute("data-updated"));
  await shot(phone, "queue-ticket");

  // The counter calls: the booking first (within its slot), shown on the board within a
  // second and announced; then the walk-in.
  let started = Date.now();
  const first = await api(officer, "POST", `/api/v1/queue/counters/${counter1.id}/call`, {});
  assert.equal(first.number, booked, "a booking in its slot is called before an earlier walk-in");
  await board.locator("#board-current", { hasText: booked }).waitFor({ timeout: 1000 });
  const shownIn = Date.now() - started;
  assert.ok(shownIn < 1000, `the board showed the call after ${shownIn} ms`);
  await phone.locator("#ticket-state", { hasText: "Đã gọi" }).waitFor({ timeout: 1000 });
  started = Date.now();
  const second = await api(officer, "POST", `/api/v1/queue/counters/${counter1.id}/call`, {});
  assert.equal(second.number, walkIn);
  await board.locator("#board-current", { hasText: walkIn }).waitFor({ timeout: 1000 });
  assert.ok(Date.now() - started < 1000);
  const said = await board.evaluate(() => window.boardAnnouncements || []);
  assert.ok(said.includes(`Mời công dân có số thứ tự ${walkIn} đến quầy số 1`), JSON.stringify(said));
  await board.waitForTimeout(3500); // the new call's flash is over
  await shot(board, "queue-board");
  assert.deepEqual(await axeViolations(board, "/bang-hien-thi"), []);

  // The officer's panel shows the ticket being called.
  await officer.goto(`${server.base}/quay/hang-doi/${counter1.id}`);
  await officer.locator("body", { hasText: walkIn }).waitFor();
  await shot(officer, "queue-panel");

  // The officer starts serving the ticket and receives a dossier from it (the panel's
  // intake form works without a script); the receipt shows the ticket's number.
  await Promise.all([
    officer.waitForEvent("load"),
    officer.locator(`#ticket-${second.id}`).getByRole("button", { name: "Bắt đầu phục vụ" }).click(),
  ]);
  const desk = await signIn(browser, server.base, "tiepnhan", undefined, { javaScriptEnabled: false });
  await desk.goto(`${server.base}/quay/hang-doi/${counter1.id}`);
  const start = desk.locator("form").filter({ has: desk.locator(`input[name="so"][value="${second.id}"]`) });
  await start.getByLabel("Mã thủ tục").fill("1.900141");
  await Promise.all([desk.waitForURL(/\/quay\/tiep-nhan\//), start.getByRole("button", { name: "Tiếp nhận hồ sơ" }).click()]);
  await desk.locator("#applicant-name").fill("Trần Văn Xếp Hàng");
  await desk.locator("#applicant-id").fill("058190000321");
  await desk.locator("#applicant-phone").fill("0912000321");
  const ticks = desk.locator("[data-tick]");
  for (let i = 0; i < (await ticks.count()); i++) await ticks.nth(i).check();
  const scan = pdfFile(mkdtempSync(join(tmpdir(), "motcua-queue-")), "ban-quet.pdf");
  await desk.locator('#intake input[type="file"][name^="documents."]').first().setInputFiles(scan);
  await Promise.all([desk.waitForNavigation(), desk.locator("#accept").click()]);
  const why = await desk.locator(".form-error, .error-summary").first().innerText().catch(() => "");
  assert.ok(new URL(desk.url()).pathname.startsWith("/quay/bien-nhan/"), `the intake from the ticket is received: ${why}`);
  assert.equal((await desk.locator("#ticket-number").innerText()).trim(), walkIn);
  await shot(desk, "queue-receipt");
  const dossier = decodeURIComponent(new URL(desk.url()).pathname.split("/").pop());
  const served = await api(officer, "GET", `/api/v1/queue/counters/${counter1.id}/panel`);
  const linked = served.current.find((t) => t.number === walkIn);
  assert.ok(linked, `ticket ${walkIn} is still at counter 1: ${JSON.stringify(served.current)}`);
  assert.equal(linked.dossier_code, dossier, "the ticket shows the dossier's code");
});

test("priority tickets follow the fair rule; two counters calling at once get different tickets", async () => {
  const admin = await signIn(browser, server.base, "quantri");
  await openAllDay(admin);
  const setup = await api(admin, "GET", "/api/v1/queue/setup");
  const k = setup.settings.max_priority_run;
  const groupB = setup.groups.find((g) => g.letter === "B");
  const [c3, c4] = [3, 4].map((n) => setup.counters.find((c) => c.number === n));
  assert.ok(c3.groups.includes(groupB.id) && c4.groups.includes(groupB.id), "counters 3 and 4 serve group B");
  const kiosk = await device("/may-lay-so/kich-hoat", (await api(admin, "POST", "/api/v1/queue/kiosks", { name: "Sảnh tầng 2" })).token, { width: 1080, height: 1920 });

  // One ordinary ticket, then K + 1 priority tickets: the counter calls K priority
  // tickets, then the ordinary one (it has waited K calls), then the last priority one.
  const ordinary = await take(kiosk, /Tư pháp/);
  const priority = [];
  for (let i = 0; i <= k; i++) priority.push(await take(kiosk, /Tư pháp/, true));
  const officer = await signIn(browser, server.base, "tiepnhan");
  const called = [];
  for (let i = 0; i < k + 2; i++) called.push((await api(officer, "POST", `/api/v1/queue/counters/${c3.id}/call`, {})).number);
  assert.deepEqual(called, [...priority.slice(0, k), ordinary, priority[k]], `the fair rule with K = ${k}`);

  // Two officers press "Gọi số tiếp theo" at the same instant on two counters of the group.
  const waiting = [await take(kiosk, /Tư pháp/), await take(kiosk, /Tư pháp/)];
  const other = await signIn(browser, server.base, "tiepnhan");
  const [a, b] = await Promise.all([
    api(officer, "POST", `/api/v1/queue/counters/${c3.id}/call`, {}),
    api(other, "POST", `/api/v1/queue/counters/${c4.id}/call`, {}),
  ]);
  assert.notEqual(a.number, b.number, "two counters never get the same ticket");
  assert.deepEqual([a.number, b.number].sort(), [...waiting].sort());
});
