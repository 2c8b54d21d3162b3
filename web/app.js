// The page's wiring: sign-in, filters, upload, folders, and the item panel.
import { api, loadConfig, session } from "./api.js";
import { el } from "./dom.js";
import { Grid } from "./grid.js";
import { Panel } from "./panel.js";
import { Catalogue } from "./tags.js";
import { Uploader } from "./upload.js";

const $ = (selector) => document.querySelector(selector);
const catalogue = new Catalogue();
const filtersForm = $("#filters");

const grid = new Grid({
  list: $("#grid"),
  more: $("#more"),
  status: $("#list-status"),
  onOpen: (id) => panel.open(id),
});
const panel = new Panel({
  dialog: $("#panel"),
  catalogue,
  onChanged: (item) => {
    grid.upsert(item, { onlyExisting: true });
    showCatalogue();
  },
  onClosed: (id) => grid.card(id)?.querySelector("button")?.focus(),
  onDeleted: (item) => {
    grid.remove(item.id);
    $("#list-status").textContent = `Deleted ${item.filename}.`;
  },
});
const uploader = new Uploader({
  list: $("#uploads"),
  onUploaded: (item) => grid.upsert(item),
  folder: () => filtersForm.elements.folder.value,
});

// ---------------------------------------------------------------- sign-in

$("#sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = event.target.elements.api_key.value.trim();
  const error = $("#sign-in-error");
  error.textContent = "";
  try {
    await api("GET", "/v1/folders", { key }); // any read proves the key
  } catch (problem) {
    error.textContent = problem.message;
    return;
  }
  session.key = key;
  event.target.reset();
  await enter();
});

$("#sign-out").addEventListener("click", () => {
  session.key = null;
  location.hash = "";
  location.reload();
});

async function enter() {
  $("#sign-in").hidden = true;
  $("#library").hidden = false;
  $("#sign-out").hidden = false;
  try {
    await catalogue.refresh();
  } catch (error) {
    if (error.status === 401) {
      session.key = null;
      $("#sign-in").hidden = false;
      $("#library").hidden = true;
      $("#sign-out").hidden = true;
      $("#sign-in-error").textContent = error.message;
      return;
    }
  }
  showCatalogue();
  await grid.reload(currentFilters());
  openFromHash();
}

// ---------------------------------------------------------------- filters

function currentFilters() {
  const form = filtersForm.elements;
  return {
    query: form.query.value.trim(),
    kind: form.kind.value,
    folder: form.folder.value,
    tag: form.tag.value,
    unused: form.unused.checked ? "true" : "",
    sort: form.sort.value,
    order: form.order.value,
  };
}

/** Folder and tag choices (filters, the panel's tag suggestions, the folder list) from the catalogue. */
function showCatalogue() {
  const { folder, tag } = filtersForm.elements;
  const keep = (select, options) => {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "All"), ...options);
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  };
  keep(folder, catalogue.folders.map((path) => el("option", { value: path }, path)));
  keep(tag, catalogue.tags.map((t) => el("option", { value: t.slug }, t.name)));
  $("#tag-names").replaceChildren(...catalogue.tags.map((t) => el("option", { value: t.name })));
  $("#folder-list").replaceChildren(
    ...catalogue.folders.map((path) =>
      el(
        "li",
        {},
        el("span", {}, path),
        path === "/" ? null : el("button", { type: "button", onclick: () => deleteFolder(path), "aria-label": `Delete folder ${path}` }, "Delete"),
      ),
    ),
  );
}

let searchTimer = null;
filtersForm.addEventListener("input", (event) => {
  clearTimeout(searchTimer);
  const wait = event.target.name === "query" ? 300 : 0; // search as you type, without a call per key
  searchTimer = setTimeout(() => grid.reload(currentFilters()), wait);
});
filtersForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  grid.reload(currentFilters());
});

// ---------------------------------------------------------------- upload

$("#file-input").addEventListener("change", (event) => {
  uploader.upload(event.target.files);
  event.target.value = "";
});
const dropzone = $("#dropzone");
dropzone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropzone.classList.add("dragging");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("dragging");
  if (event.dataTransfer?.files.length) uploader.upload(event.dataTransfer.files);
});

// ---------------------------------------------------------------- folders

$("#folder-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = event.target.elements.path;
  const path = input.value.trim().startsWith("/") ? input.value.trim() : `/${input.value.trim()}`;
  await folderAction(() => api("POST", "/v1/folders", { body: { path } }), `Folder ${path} created.`);
  input.value = "";
});

function deleteFolder(path) {
  return folderAction(() => api("DELETE", "/v1/folders", { query: { path } }), `Folder ${path} deleted.`);
}

async function folderAction(call, success) {
  const message = $("#folder-message");
  try {
    await call();
    message.className = "notice";
    message.textContent = success;
    await catalogue.refresh();
    showCatalogue();
  } catch (error) {
    message.className = "notice error";
    message.textContent = error.message;
  }
}

// ---------------------------------------------------------------- links to items (#item=med_...)

function openFromHash() {
  const match = location.hash.match(/^#item=([\w-]+)$/);
  if (match && session.key && panel.item?.id !== match[1]) panel.open(match[1]);
}
window.addEventListener("hashchange", openFromHash);

await loadConfig();
if (session.key) await enter();
