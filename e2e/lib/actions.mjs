// The action forms of a dossier's page (`#action-NAME`, inside a <details>): opening one,
// and submitting it to the page it reloads, failing with the form's error if it shows one.
import assert from "node:assert/strict";

export async function openAction(page, name) {
  const form = page.locator(`#action-${name}`);
  await form.evaluate((f) => f.closest("details")?.setAttribute("open", ""));
  return form;
}

export async function submitAndReload(page, form) {
  const error = form.locator(".form-error:not([hidden]), .field-error").first();
  const outcome = await Promise.race([
    page.waitForEvent("load", { timeout: 20_000 }).then(() => "ok"),
    form.locator('[type="submit"]').first().click().then(() => error.waitFor({ state: "visible", timeout: 20_000 })).then(() => "error"),
  ]);
  if (outcome === "error") assert.fail(`${await form.getAttribute("id")} refused: ${await error.textContent()}`);
}
