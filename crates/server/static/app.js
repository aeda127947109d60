// motcua pages: forms that call the JSON API, uploads with progress, drafts that survive a
// reload. Written for this project; no framework. Conventions (see docs/architecture.md):
//   <form data-api="/api/v1/..." [data-method="POST"] [data-next="/ho-so/{code}"]
//         [data-reload] [data-confirm="..."] [data-draft="key"] [data-success="..."]>
//   field names build the JSON body: "applicant.name" nests, "documents.0.count" makes
//   arrays, "notes[]" appends; data-type="int|bool|lines|json" converts; an empty field is
//   left out unless it is `required` (so the API names what is missing).
//   <input type="file" data-upload="documents.0.files[]"> uploads each chosen file to
//   /api/v1/uploads at once, with a progress bar, and keeps the returned id in a hidden
//   field of that name.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var OFFLINE = "Không kết nối được máy chủ. Những gì bạn đã nhập vẫn còn; hãy thử lại.";

  function setPath(obj, path, value) {
    var parts = path.split(".");
    var cur = obj;
    for (var i = 0; i < parts.length; i++) {
      var key = parts[i];
      var append = key.slice(-2) === "[]";
      if (append) key = key.slice(0, -2);
      if (/^\d+$/.test(key)) key = parseInt(key, 10);
      var last = i === parts.length - 1;
      if (last) {
        if (append) {
          if (!Array.isArray(cur[key])) cur[key] = [];
          cur[key].push(value);
        } else {
          cur[key] = value;
        }
        return;
      }
      if (append) {
        if (!Array.isArray(cur[key])) cur[key] = [];
        var o = {};
        cur[key].push(o);
        cur = o;
        continue;
      }
      if (cur[key] === undefined || cur[key] === null || typeof cur[key] !== "object") {
        cur[key] = /^\d+$/.test(parts[i + 1].replace("[]", "")) ? [] : {};
      }
      cur = cur[key];
    }
  }

  function compact(v) {
    // Arrays built from indices may have holes (unticked rows): drop them.
    if (Array.isArray(v)) return v.filter(function (x) { return x !== undefined; }).map(compact);
    if (v && typeof v === "object") {
      Object.keys(v).forEach(function (k) { v[k] = compact(v[k]); });
    }
    return v;
  }

  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.type === "button") return;
      if (el.closest("[data-skip]")) return;
      var type = el.getAttribute("data-type") || "";
      var value;
      if (el.type === "checkbox" || el.type === "radio") {
        if (type === "bool" && el.type === "checkbox") value = el.checked;
        else if (!el.checked) return;
        else value = el.value;
      } else {
        value = el.value;
      }
      if (typeof value === "string") {
        if (value.trim() === "" && !el.required) return;
        if (type === "int") value = value.trim() === "" ? value : Number(value);
        else if (type === "bool") value = value === "true";
        else if (type === "lines") value = value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
        else if (type === "json") { try { value = JSON.parse(value); } catch (e) { /* the API will say */ } }
      }
      setPath(body, el.name, value);
    });
    return compact(body);
  }

  function lookup(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }

  function fill(template, data) {
    return template.replace(/\{([\w.]+)\}/g, function (_, k) {
      var v = data ? lookup(data, k) : undefined;
      return v == null ? "" : encodeURIComponent(String(v));
    });
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) {
      e.removeAttribute("aria-invalid");
      e.removeAttribute("aria-describedby");
    });
    var box = form.querySelector(".form-error");
    if (box) { box.hidden = true; box.textContent = ""; }
    var summary = form.querySelector("[data-error-summary]");
    if (summary) { summary.hidden = true; summary.removeAttribute("role"); summary.textContent = ""; }
  }

  // Marks `el` (a field's control or its container) with `message`; the id of the message.
  function markField(el, message) {
    var p = document.createElement("p");
    p.className = "field-error";
    p.id = "field-error-" + (++seq);
    p.textContent = message;
    var control = el;
    if (el.tagName === "FIELDSET" || el.tagName === "DIV" || el.tagName === "SECTION") {
      el.appendChild(p);
      control = el.querySelector("input:not([type=hidden]), select, textarea");
    } else {
      el.insertAdjacentElement("afterend", p);
    }
    if (control && control.type !== "hidden") {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", p.id);
      if (!control.id) control.id = "field-" + seq;
    }
    return control && control.id ? control.id : null;
  }

  // Every problem of a refused send at once: each field marked, and a summary next to the
  // action linking to them, which takes the focus (forms with [data-error-summary]; others
  // show the first problem as before).
  function showErrors(form, data) {
    var summary = form.querySelector("[data-error-summary]");
    var errors = (data && data.errors && data.errors.length) ? data.errors
      : [{ field: data && data.field, message: data && data.message }];
    if (!summary) { showError(form, data.message, data.field); return; }
    var list = document.createElement("ul");
    errors.forEach(function (e) {
      var el = fieldFor(form, e.field);
      var id = el ? markField(el, e.message) : null;
      var li = document.createElement("li");
      if (id) {
        var a = document.createElement("a");
        a.href = "#" + id;
        a.textContent = e.message;
        li.appendChild(a);
      } else {
        li.textContent = e.message;
      }
      list.appendChild(li);
    });
    var h = document.createElement("h2");
    h.textContent = errors.length > 1 ? "Chưa gửi được: " + errors.length + " chỗ cần sửa" : "Chưa gửi được";
    summary.textContent = "";
    summary.appendChild(h);
    summary.appendChild(list);
    summary.hidden = false;
    summary.setAttribute("role", "alert");
    summary.focus();
  }

  function fieldFor(form, field) {
    if (!field) return null;
    var candidates = [field, field.replace(/\[(\d+)\]/g, ".$1")];
    for (var i = 0; i < candidates.length; i++) {
      var f = candidates[i];
      var el = form.querySelector('[data-field="' + CSS.escape(f) + '"]') ||
        form.querySelector('[name="' + CSS.escape(f) + '"]');
      if (el) return el;
    }
    // "applicant.name" may be reported as "name": try the last segment.
    var tail = field.split(".").pop();
    return form.querySelector('[name$=".' + CSS.escape(tail) + '"]') || form.querySelector('[name="' + CSS.escape(tail) + '"]');
  }

  var seq = 0;
  function showError(form, message, field) {
    var box = form.querySelector(".form-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "form-error";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = message;
    box.hidden = false;
    var el = fieldFor(form, field);
    if (el) {
      var p = document.createElement("p");
      p.className = "field-error";
      p.id = "field-error-" + (++seq);
      p.textContent = message;
      if (el.type === "hidden") {
        el.insertAdjacentElement("afterend", p);
      } else if (el.tagName === "FIELDSET" || el.tagName === "DIV" || el.tagName === "SECTION") {
        el.appendChild(p);
      } else {
        el.insertAdjacentElement("afterend", p);
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("aria-describedby", p.id);
        el.focus();
      }
    } else {
      box.setAttribute("tabindex", "-1");
      box.focus();
    }
  }

  function toLogin() {
    location.assign("/dang-nhap?next=" + encodeURIComponent(location.pathname + location.search));
  }

  async function submit(form, ev) {
    ev.preventDefault();
    var confirmText = form.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) return;
    if (form.dataset.busy) return;
    clearErrors(form);
    var button = form.querySelector('[type="submit"]');
    var label = button ? button.textContent : "";
    form.dataset.busy = "1";
    if (button) { button.disabled = true; button.textContent = "Đang gửi…"; }
    try {
      var method = (form.getAttribute("data-method") || "POST").toUpperCase();
      var body = formBody(form);
      var init = {
        method: method,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
      };
      if (method !== "GET" && method !== "DELETE") {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      var res = await fetch(fill(form.getAttribute("data-api"), body), init);
      var data = null;
      var text = await res.text();
      if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
      if (res.status === 401 && csrf && !form.hasAttribute("data-no-login")) { toLogin(); return; }
      if (!res.ok) {
        if (data && data.message) { showErrors(form, data); return; }
        showError(form, "Lỗi " + res.status + ". Vui lòng thử lại.", null);
        return;
      }
      var draft = form.getAttribute("data-draft");
      if (draft) { try { localStorage.removeItem("draft:" + draft); } catch (e) { /* private mode */ } }
      form.dispatchEvent(new CustomEvent("api:done", { detail: data, bubbles: true }));
      var next = form.getAttribute("data-next");
      if (next) { location.assign(fill(next, data)); return; }
      if (form.hasAttribute("data-reload")) { location.reload(); return; }
      var ok = form.querySelector(".form-ok");
      if (ok) { ok.textContent = form.getAttribute("data-success") || "Đã lưu."; ok.hidden = false; }
    } catch (e) {
      showError(form, OFFLINE, null);
    } finally {
      delete form.dataset.busy;
      if (button) { button.disabled = false; button.textContent = label; }
    }
  }

  // Uploads: each file goes to /api/v1/uploads as soon as it is chosen.
  function uploadList(input) {
    var sel = input.getAttribute("data-files");
    var list = sel ? document.querySelector(sel) : null;
    if (!list) {
      list = document.createElement("ul");
      list.className = "files";
      list.id = "files-" + (++seq);
      input.insertAdjacentElement("afterend", list);
      input.setAttribute("data-files", "#" + list.id);
    }
    return list;
  }

  function addUploaded(input, file) {
    var list = uploadList(input);
    var li = document.createElement("li");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.getAttribute("data-upload");
    hidden.value = file.id;
    hidden.setAttribute("data-label", file.name);
    var a = document.createElement("a");
    a.href = "/api/v1/files/" + encodeURIComponent(file.id);
    a.textContent = file.name;
    a.target = "_blank";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Bỏ tệp này";
    remove.setAttribute("aria-label", "Bỏ tệp " + file.name);
    remove.addEventListener("click", function () { li.remove(); saveDraft(input.form); });
    li.append(hidden, a, " ", remove);
    list.appendChild(li);
  }

  function fileError(input, message) {
    var p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    input.insertAdjacentElement("afterend", p);
  }

  function uploadOne(input, file) {
    return new Promise(function (resolve) {
      var row = document.createElement("div");
      row.className = "upload-progress";
      var name = document.createElement("span");
      name.textContent = file.name + " ";
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Đang tải lên " + file.name);
      row.append(name, bar);
      input.insertAdjacentElement("afterend", row);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/uploads?name=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        row.remove();
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status === 401) { toLogin(); return resolve(); }
        if (xhr.status >= 200 && xhr.status < 300 && data) addUploaded(input, data);
        else fileError(input, file.name + ": " + ((data && data.message) || "không tải lên được."));
        resolve();
      };
      xhr.onerror = function () { row.remove(); fileError(input, OFFLINE); resolve(); };
      xhr.send(file);
    });
  }

  async function onFiles(input) {
    var files = Array.prototype.slice.call(input.files || []);
    var parent = input.parentNode;
    parent.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    for (var i = 0; i < files.length; i++) await uploadOne(input, files[i]);
    input.value = "";
    saveDraft(input.form);
  }

  // Drafts: what was typed (and uploaded) survives a reload or a lost connection.
  function saveDraft(form) {
    var key = form && form.getAttribute("data-draft");
    if (!key) return;
    var fields = {};
    var uploads = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file") return;
      if (el.type === "hidden" && el.hasAttribute("data-label")) {
        uploads.push({ name: el.name, id: el.value, label: el.getAttribute("data-label") });
      } else if (el.type === "hidden") {
        return;
      } else if (el.type === "checkbox" || el.type === "radio") {
        fields[el.name + "=" + el.value] = el.checked;
      } else {
        fields[el.name] = el.value;
      }
    });
    try { localStorage.setItem("draft:" + key, JSON.stringify({ fields: fields, uploads: uploads })); } catch (e) { /* full or private */ }
  }

  function restoreDraft(form) {
    var key = form.getAttribute("data-draft");
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem("draft:" + key) || "null"); } catch (e) { saved = null; }
    if (!saved) return;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden") return;
      if (el.type === "checkbox" || el.type === "radio") {
        var k = el.name + "=" + el.value;
        if (k in saved.fields) el.checked = saved.fields[k];
      } else if (el.name in saved.fields) {
        el.value = saved.fields[el.name];
      }
    });
    (saved.uploads || []).forEach(function (u) {
      var input = form.querySelector('input[type="file"][data-upload="' + CSS.escape(u.name) + '"]');
      if (input) addUploaded(input, { id: u.id, name: u.label });
    });
    var note = form.querySelector(".draft-note");
    if (note) note.hidden = false;
  }

  function init(root) {
    root.querySelectorAll("form[data-api]").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", function (ev) { submit(form, ev); });
      if (form.hasAttribute("data-draft")) {
        restoreDraft(form);
        form.addEventListener("input", function () { saveDraft(form); });
        form.addEventListener("change", function () { saveDraft(form); });
      }
    });
    root.querySelectorAll('input[type="file"][data-upload]').forEach(function (input) {
      if (input.dataset.bound) return;
      input.dataset.bound = "1";
      input.addEventListener("change", function () { onFiles(input); });
    });
    root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx swaps in new content: bind it too, and send the CSRF token with its requests.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
  document.addEventListener("htmx:configRequest", function (e) { e.detail.headers["X-CSRF-Token"] = csrf; });
  window.motcua = { init: init, formBody: formBody };
})();
