// An item's panel: preview and variants, details, the edit form (If-Match), the focal point,
// where it is used, and delete (with the in_use references and a confirmed force delete).
import { api } from "./api.js";
import { el, formatBytes, variantFor } from "./dom.js";
import { saveTags } from "./tags.js";

const STALE = "Someone else changed this item since you opened it. Nothing was saved: reload it to see their changes, then edit again.";

export class Panel {
  constructor({ dialog, catalogue, onChanged, onDeleted, onClosed }) {
    this.dialog = dialog;
    this.catalogue = catalogue; // folders and tags, shared with the filters
    this.onChanged = onChanged;
    this.onDeleted = onDeleted;
    this.item = null;
    dialog.addEventListener("close", () => {
      const id = this.item?.id;
      this.item = null;
      if (location.hash.startsWith("#item=")) history.replaceState(null, "", location.pathname + location.search);
      if (id) onClosed(id); // the card that opened it was redrawn meanwhile: focus goes back to its new one
    });
  }

  async open(id) {
    const body = el("div", { class: "panel-body" }, el("p", { role: "status" }, "Loading…"));
    this.dialog.replaceChildren(this.header("Media item"), body);
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const { data } = await api("GET", `/v1/media/${encodeURIComponent(id)}`);
      this.show(data);
    } catch (error) {
      body.replaceChildren(el("p", { role: "alert", class: "error" }, error.message));
    }
  }

  /** The sticky header: the title, Close, and the notice (so a message shows wherever one scrolled). */
  header(title, notice = null) {
    return el(
      "header",
      { class: "panel-header" },
      el("h2", { id: "panel-title" }, title),
      el("button", { type: "button", class: "close", onclick: () => this.dialog.close() }, "Close"),
      notice,
    );
  }

  show(item, notice = null) {
    this.item = item;
    history.replaceState(null, "", `#item=${item.id}`);
    this.notice = el("p", { class: "notice", role: "status", "aria-live": "polite" }, notice || "");
    this.dialog.replaceChildren(
      this.header(item.filename, this.notice),
      el(
        "div",
        { class: "panel-body" },
        this.preview(item),
        this.details(item),
        this.variants(item),
        this.form(item),
        this.usedBy(item),
        this.deletion(item),
      ),
    );
    this.onChanged(item);
  }

  say(text, isError = false) {
    this.notice.className = isError ? "notice error" : "notice";
    this.notice.setAttribute("role", isError ? "alert" : "status");
    this.notice.replaceChildren(...[text].flat());
  }

  preview(item) {
    const variant = variantFor(item, 800);
    const src = variant?.url || (item.kind === "image" && item.status === "ready" ? item.url : null);
    if (!src) return el("p", { class: "no-preview" }, `No preview (${item.kind}, ${item.status})`);
    const focal = item.focal_point || { x: 50, y: 50 };
    const marker = el("span", { class: "focal-marker", style: `left:${focal.x}%;top:${focal.y}%`, "aria-hidden": "true" });
    const image = el("img", { src, alt: item.alt || `Preview of ${item.filename}`, class: "preview-image" });
    const frame = el("div", {
      class: "preview",
      style: item.placeholder?.dominant_color ? `background-color:${item.placeholder.dominant_color}` : null,
      title: "Click the image to set its focal point",
    }, image, marker);
    image.addEventListener("click", (event) => {
      const box = image.getBoundingClientRect();
      const x = Math.round(((event.clientX - box.left) / box.width) * 100);
      const y = Math.round(((event.clientY - box.top) / box.height) * 100);
      this.patch({ focal_point: { x: clamp(x), y: clamp(y) } }, `Focal point set to ${clamp(x)} %, ${clamp(y)} %.`);
    });
    return el("figure", {}, frame, el("figcaption", {}, `Focal point ${focal.x} %, ${focal.y} % — click the image to move it (or edit it below).`));
  }

  details(item) {
    const rows = [
      ["Status", item.status + (item.error ? ` (${item.error.code}: ${item.error.message})` : "")],
      ["Kind", item.kind],
      ["Type", item.content_type],
      ["Size", formatBytes(item.size)],
      ["Dimensions", item.width && item.height ? `${item.width} × ${item.height}` : null],
      ["Duration", item.duration ? `${item.duration} s` : null],
      ["Pages", item.pages],
      ["Folder", item.folder],
      ["Tags", item.tags?.length ? item.tags.join(", ") : "none"],
      ["ID", item.id],
      ["Created", item.created_at],
    ].filter(([, value]) => value !== null && value !== undefined);
    return el("dl", { class: "details" }, rows.map(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
  }

  variants(item) {
    const entries = [
      { label: "Original", url: item.url },
      ...(item.variants || []).map((v) => ({ label: `${v.name} px (${v.width} × ${v.height} ${v.format})`, url: v.url })),
    ].filter((entry) => entry.url);
    return el(
      "section",
      { class: "variants", "aria-labelledby": "variants-title" },
      el("h3", { id: "variants-title" }, "Files and URLs"),
      el("ul", {}, entries.map((entry) => {
        const field = el("input", { type: "text", readonly: true, value: entry.url, "aria-label": `${entry.label} URL` });
        return el(
          "li",
          {},
          el("span", { class: "variant-label" }, entry.label),
          field,
          el("button", { type: "button", onclick: () => this.copy(entry.url, entry.label), "aria-label": `Copy ${entry.label} URL` }, "Copy"),
        );
      })),
    );
  }

  async copy(url, label) {
    try {
      await navigator.clipboard.writeText(url);
      this.say(`${label} URL copied.`);
    } catch {
      this.say("Copying needs clipboard access: select the URL and copy it.", true);
    }
  }

  form(item) {
    const field = (label, name, value, { multiline = false, ...attributes } = {}) => {
      const id = `edit-${name}`;
      const input = multiline
        ? el("textarea", { id, name, rows: "2", ...attributes }, value || "")
        : el("input", { id, name, type: "text", value: value ?? "", ...attributes });
      return el("div", { class: "field" }, el("label", { for: id }, label), input);
    };
    const folders = el("select", { id: "edit-folder", name: "folder" },
      this.catalogue.folders.map((path) => el("option", { value: path, selected: path === item.folder }, path)));
    const focal = item.focal_point || { x: 50, y: 50 };
    const form = el(
      "form",
      { class: "edit", "aria-labelledby": "edit-heading" },
      el("h3", { id: "edit-heading" }, "Edit"),
      field("Filename", "filename", item.filename, { required: true, maxlength: "255" }),
      field("Alt text", "alt", item.alt, { multiline: true, maxlength: "500" }),
      field("Title", "title", item.title, { maxlength: "255" }),
      field("Caption", "caption", item.caption, { multiline: true, maxlength: "1000" }),
      el("div", { class: "field" }, el("label", { for: "edit-folder" }, "Folder"), folders),
      field("Tags (comma-separated)", "tags", (item.tags || []).join(", "), { list: "tag-names" }),
      el("fieldset", { class: "focal" }, el("legend", {}, "Focal point (%)"),
        field("x", "focal_x", focal.x, { type: "number", min: "0", max: "100" }),
        field("y", "focal_y", focal.y, { type: "number", min: "0", max: "100" })),
      el("button", { type: "submit" }, "Save"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(new FormData(form));
    });
    return form;
  }

  async save(form) {
    const item = this.item;
    const text = (name) => form.get(name).trim() || null;
    const changes = {};
    for (const name of ["alt", "title", "caption"]) if (text(name) !== (item[name] || null)) changes[name] = text(name);
    if (text("filename") && text("filename") !== item.filename) changes.filename = text("filename");
    if (form.get("folder") !== item.folder) changes.folder = form.get("folder");
    const focal = { x: Number(form.get("focal_x")), y: Number(form.get("focal_y")) };
    const old = item.focal_point || { x: 50, y: 50 };
    if (focal.x !== old.x || focal.y !== old.y) changes.focal_point = focal;
    const tags = form.get("tags").split(",").map((tag) => tag.trim()).filter(Boolean);
    const tagsChanged = tags.join(",") !== (item.tags || []).join(",");
    if (!Object.keys(changes).length && !tagsChanged) return this.say("Nothing to save.");
    let saved = item;
    if (Object.keys(changes).length) {
      saved = await this.patch(changes, null);
      if (!saved) return;
    }
    if (tagsChanged) {
      try {
        await saveTags(this.catalogue, item.id, tags);
        saved = (await api("GET", `/v1/media/${encodeURIComponent(item.id)}`)).data;
      } catch (error) {
        return this.say(`Tags not saved: ${error.message}`, true);
      }
    }
    this.show(saved, "Saved.");
  }

  /** PATCH with If-Match on the version shown; a 412 says so plainly and offers a reload. */
  async patch(changes, successMessage) {
    try {
      const { data } = await api("PATCH", `/v1/media/${encodeURIComponent(this.item.id)}`, {
        body: changes,
        headers: { "If-Match": `"${this.item.version}"` },
      });
      if (successMessage) this.show(data, successMessage);
      return data;
    } catch (error) {
      if (error.status === 412) {
        this.say([STALE, " ", el("button", { type: "button", onclick: () => this.open(this.item.id) }, "Reload")], true);
      } else {
        this.say(`Not saved: ${error.message}`, true);
      }
      return null;
    }
  }

  usedBy(item) {
    const refs = item.used_by || [];
    return el(
      "section",
      { class: "used-by", "aria-labelledby": "used-by-title" },
      el("h3", { id: "used-by-title" }, "Used by"),
      refs.length ? el("ul", {}, refs.map((ref) => el("li", {}, `${ref.type} ${ref.id}`))) : el("p", {}, "Not used anywhere."),
    );
  }

  deletion(item) {
    const area = el("div", { class: "delete-area" });
    const start = el("button", { type: "button", class: "danger", onclick: () => ask() }, "Delete");
    const ask = () => area.replaceChildren(
      el("p", {}, `Delete ${item.filename} and all its files?`),
      el("button", { type: "button", class: "danger", onclick: () => this.remove(area, false) }, "Yes, delete"),
      el("button", { type: "button", onclick: () => area.replaceChildren(start) }, "Cancel"),
    );
    area.append(start);
    return el("section", { class: "deletion", "aria-label": "Delete" }, area);
  }

  async remove(area, force) {
    const item = this.item;
    try {
      await api("DELETE", `/v1/media/${encodeURIComponent(item.id)}`, {
        query: { force: force ? "true" : undefined },
        headers: { "If-Match": `"${item.version}"` },
      });
      this.dialog.close();
      this.onDeleted(item);
    } catch (error) {
      if (error.code === "in_use") {
        const refs = error.problem.used_by || [];
        area.replaceChildren(
          el("p", { role: "alert" }, `${item.filename} is still used by ${refs.length} ${refs.length === 1 ? "entity" : "entities"}:`),
          el("ul", {}, refs.map((ref) => el("li", {}, `${ref.type} ${ref.id}`))),
          el("button", { type: "button", class: "danger", onclick: () => this.remove(area, true) }, "Detach everywhere and delete"),
          el("button", { type: "button", onclick: () => this.show(item) }, "Cancel"),
        );
      } else if (error.status === 412) {
        this.say([STALE, " ", el("button", { type: "button", onclick: () => this.open(item.id) }, "Reload")], true);
      } else {
        this.say(`Not deleted: ${error.message}`, true);
      }
    }
  }
}

function clamp(value) {
  return Math.max(0, Math.min(100, value));
}
