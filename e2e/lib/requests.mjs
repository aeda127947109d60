// What several browser tests do besides clicking: JSON API calls and uploads with a signed-in
// page's session (its cookie and CSRF token), and small real PDF files to upload.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

// The server a page is on.
function origin(page) {
  return new URL(page.url()).origin;
}

// A JSON API call with `page`'s session; fails with the answer unless it is a success.
// The parsed answer (null when empty).
export async function api(page, method, path, body) {
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute("content");
  const res = await page.request.fetch(origin(page) + path, {
    method,
    headers: { "x-csrf-token": csrf, "content-type": "application/json" },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Uploads a small PDF named `name` with `page`'s session; the stored file's id.
export async function upload(page, name) {
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute("content");
  const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
  const res = await page.request.post(`${origin(page)}/api/v1/uploads?name=${encodeURIComponent(name)}`, {
    headers: { "x-csrf-token": csrf, "content-type": "application/octet-stream" },
    data: pdf,
  });
  assert.ok(res.ok(), await res.text());
  return (await res.json()).id;
}

// A small but real one-page PDF saying `text`, written to `dir/name` (uploads are checked
// by content, not by name); its path.
export function pdfFile(dir, name, text = name) {
  const body = `BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, "")}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${body.length} >>\nstream\n${body}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const path = join(dir, name);
  writeFileSync(path, out);
  return path;
}
