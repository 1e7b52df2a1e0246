// The edit page's upload: drop or choose a file → preview of its first rows and the detected
// columns (changeable) → import job with a progress bar → inserted / duplicates / rejected.
// Without this script the form posts the file and the page shows the job's progress itself.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  if (!form) { return; }
  const $ = function (id) { return document.getElementById(id); };
  const fileInput = $("upload-file");
  const dropzone = $("dropzone");
  const previewBox = $("preview");
  const detected = $("preview-detected");
  const table = $("preview-table");
  const errorBox = $("upload-error");
  const submit = $("upload-submit");
  const statusBox = $("import-status");
  const progress = $("import-progress");
  const progressLabel = $("import-progress-label");
  const result = $("import-result");
  const rejectedWrap = $("rejected-link-wrap");
  const rejectedLink = $("rejected-link");
  const headerBox = $("map-has-header");
  const fieldsBox = $("map-fields");
  const fieldsList = $("map-fields-list");
  const previewLeftOut = $("preview-left-out");
  const resultLeftOut = $("result-left-out");
  const selects = Array.from(form.querySelectorAll("select[data-field]"));
  const msg = form.dataset;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const WORKBOOK = /\.(xlsx|xlsm|xls|xlsb|ods)$/i;
  const PREVIEW_BYTES = 512 * 1024;
  let file = null;
  let headers = [];
  let previewSeq = 0;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] == null ? "" : String(values[key]); });
  }
  function number(value) { return new Intl.NumberFormat(document.documentElement.lang).format(value); }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  function send(method, url, body, onUpload) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      if (onUpload) { xhr.upload.addEventListener("progress", onUpload); }
      xhr.addEventListener("load", function () {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300 && data) { resolve(data); return; }
        const text = data && data.error && (data.error.message || data.error);
        reject(new Error(typeof text === "string" && text.length < 400 ? text : msg.msgError));
      });
      xhr.addEventListener("error", function () { reject(new Error(msg.msgError)); });
      xhr.send(body);
    });
  }

  function mapping() {
    const chosen = {};
    selects.forEach(function (select) {
      const key = select.dataset.field === "phone_number" ? "phone" : select.dataset.field;
      chosen[key] = select.value === "" ? null : Number(select.value);
    });
    if (headerBox) { chosen.has_header = headerBox.checked; }
    if (fieldsList && fieldsList.children.length) {
      chosen.fields = Array.from(fieldsList.querySelectorAll("input:checked")).map(function (box) { return Number(box.value); });
    }
    return chosen;
  }

  function fillList(list, texts) {
    list.innerHTML = "";
    (texts || []).forEach(function (text) {
      const item = document.createElement("li");
      item.textContent = text;  // a header from the file is never markup
      list.appendChild(item);
    });
    list.hidden = !list.children.length;
  }

  function fillFields(data) {
    if (!fieldsList) { return; }
    const mapped = new Set(Object.values(data.mapping));
    const kept = new Set(data.fields || []);
    fieldsList.innerHTML = "";
    headers.forEach(function (name, index) {
      if (mapped.has(name)) { return; }
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = String(index);
      box.checked = kept.has(index);
      box.addEventListener("change", function () { preview(true); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + (name || "#" + (index + 1))));
      fieldsList.appendChild(label);
    });
    fieldsBox.hidden = !fieldsList.children.length;
  }

  function fillSelects(data) {
    headers = data.headers || [];
    selects.forEach(function (select) {
      const key = select.dataset.field === "phone_number" ? "phone" : select.dataset.field;
      const current = data.mapping[key];
      select.innerHTML = "";
      if (key !== "phone") { select.add(new Option(msg.msgNone, "")); }
      headers.forEach(function (name, index) {
        const option = new Option(name, String(index));
        option.selected = name === current;
        select.add(option);
      });
      if (key !== "phone" && current == null) { select.value = ""; }
    });
    if (headerBox && typeof data.has_header === "boolean") { headerBox.checked = data.has_header; }
  }

  function fillTable(data) {
    const head = table.tHead;
    const body = table.tBodies[0];
    head.innerHTML = "";
    body.innerHTML = "";
    const columns = [msg.msgLine, selects[0].labels[0].textContent, msg.msgStoredAs, selects[1].labels[0].textContent, msg.msgProblem];
    const row = head.insertRow();
    columns.forEach(function (name) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      row.appendChild(th);
    });
    data.rows.forEach(function (item) {
      const tr = body.insertRow();
      [item.line, item.phone, item.phone_e164 || "", item.fio || "", item.problem || ""].forEach(function (value, index) {
        const td = tr.insertCell();
        td.textContent = value;  // textContent: a cell from the file is never markup
        if (index === 4 && value) { td.className = "error"; }
      });
    });
  }

  function preview(withMapping) {
    if (!file) { return; }
    const seq = ++previewSeq;
    showError("");
    detected.textContent = msg.msgReading;
    previewBox.hidden = false;
    // Text files: the first half megabyte is enough for 20 rows; workbooks are zip files,
    // which are only readable whole.
    const part = WORKBOOK.test(file.name) || file.size <= PREVIEW_BYTES * 2 ? file : file.slice(0, PREVIEW_BYTES);
    const body = new FormData();
    body.append("file", part, file.name);
    if (withMapping) { body.append("mapping", JSON.stringify(mapping())); }
    send("POST", form.dataset.previewUrl, body).then(function (data) {
      if (seq !== previewSeq) { return; }
      detected.textContent = format(msg.msgDetected, {
        format: data.format.toUpperCase(),
        encoding: data.encoding || "—",
        delimiter: data.delimiter === "\t" ? "Tab" : (data.delimiter || "—"),
      });
      fillSelects(data);
      fillFields(data);
      if (previewLeftOut) { fillList(previewLeftOut, data.left_out); }
      fillTable(data);
    }).catch(function (error) {
      if (seq !== previewSeq) { return; }
      detected.textContent = "";
      previewBox.hidden = true;
      showError(error.message);
    });
  }

  function chose(files) {
    if (!files || !files.length) { return; }
    file = files[0];
    preview(false);
  }

  fileInput.addEventListener("change", function () { chose(fileInput.files); });
  selects.forEach(function (select) { select.addEventListener("change", function () { preview(true); }); });
  if (headerBox) { headerBox.addEventListener("change", function () { preview(true); }); }
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("dragging"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    const dropped = event.dataTransfer && event.dataTransfer.files;
    if (dropped && dropped.length) {
      try { fileInput.files = dropped; } catch (e) { /* older browsers: keep our own reference */ }
      chose(dropped);
    }
  });

  function showJob(job) {
    statusBox.hidden = false;
    progressLabel.textContent = job.text || "";
    if (job.percent == null) { progress.removeAttribute("value"); } else { progress.value = job.percent; }
    if (job.finished) {
      $("result-inserted").textContent = number(job.inserted);
      $("result-duplicates").textContent = number(job.duplicates);
      $("result-rejected").textContent = number(job.rejected);
      result.hidden = job.status !== "done" && !job.inserted && !job.rejected;
      rejectedWrap.hidden = !job.rejected_url;
      if (resultLeftOut) { fillList(resultLeftOut, job.left_out); }
      if (job.rejected_url) { rejectedLink.href = job.rejected_url; }
    }
  }

  function refreshRows() {
    // Show the new numbers without leaving the page: the rows section of a fresh copy.
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("rows");
        const rows = document.getElementById("rows");
        if (fresh && rows) { rows.replaceWith(fresh); }
      });
  }

  function follow(job) {
    const url = "/ui/imports/" + job.id + "?projectId=" + encodeURIComponent(new URL(form.action).searchParams.get("projectId"));
    function poll() {
      send("GET", url, null).then(function (current) {
        showJob(current);
        if (current.finished) {
          submit.disabled = false;
          refreshRows();
        } else {
          setTimeout(poll, 600);
        }
      }).catch(function (error) { submit.disabled = false; showError(error.message); });
    }
    poll();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    file = file || (fileInput.files && fileInput.files[0]);
    if (!file) { fileInput.focus(); return; }
    showError("");
    submit.disabled = true;
    statusBox.hidden = false;
    result.hidden = true;
    rejectedWrap.hidden = true;
    progressLabel.textContent = msg.msgUploading;
    progress.value = 0;
    const body = new FormData();
    body.append("file", file, file.name);
    if (!previewBox.hidden && headers.length) { body.append("mapping", JSON.stringify(mapping())); }
    send("POST", form.action, body, function (event) {
      if (event.lengthComputable) { progress.value = Math.round((event.loaded / event.total) * 100); }
    }).then(function (job) {
      progress.value = 0;
      follow(job);
    }).catch(function (error) {
      submit.disabled = false;
      statusBox.hidden = true;
      showError(error.message);
    });
  });
})();
