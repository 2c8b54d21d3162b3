// Uploads straight to storage: presign → POST the form (XMLHttpRequest, for upload progress) →
// confirm. Each file has its own row with a progress bar and the API's own error.
import { api, postToStorage } from "./api.js";
import { el } from "./dom.js";

const PARALLEL = 3;

export class Uploader {
  constructor({ list, onUploaded, folder }) {
    this.list = list;
    this.onUploaded = onUploaded;
    this.folder = folder; // () => the folder new uploads go to
  }

  /** Upload every file, a few at a time; resolves when all have finished or failed. */
  async upload(files) {
    const queue = [...files].map((file) => ({ file, row: this.addRow(file) }));
    const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      while (queue.length) {
        const { file, row } = queue.shift();
        await this.uploadOne(file, row);
      }
    });
    await Promise.all(workers);
  }

  addRow(file) {
    const bar = el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
    const message = el("span", { class: "upload-message" }, "Waiting…");
    const row = el("li", { class: "upload", dataset: { filename: file.name, state: "waiting" } },
      el("span", { class: "upload-name" }, file.name), bar, message);
    this.list.prepend(row);
    return { row, bar, message };
  }

  async uploadOne(file, { row, bar, message }) {
    const show = (state, text) => {
      row.dataset.state = state;
      message.replaceChildren(...[text].flat());
    };
    try {
      show("uploading", "Uploading…");
      const folder = this.folder();
      const { data: presigned } = await api("POST", "/v1/media/presign", {
        body: {
          filename: file.name,
          content_type: file.type || "application/octet-stream",
          size: file.size,
          folder: folder || undefined,
        },
      });
      await postToStorage(presigned, file, (fraction) => {
        bar.value = Math.round(fraction * 100);
      });
      bar.value = 100;
      show("confirming", "Checking…");
      const { data: item } = await api("POST", "/v1/media/confirm", {
        body: { upload_id: presigned.upload_id, on_duplicate: "reject" },
      });
      show("done", `Uploaded (${item.status})`);
      this.onUploaded(item);
    } catch (error) {
      const existing = error.code === "duplicate" ? error.problem.existing : null;
      show("failed", [
        el("span", { role: "alert" }, `${file.name}: ${error.message}`),
        existing ? el("a", { href: `#item=${existing.id}`, class: "existing" }, " See the existing item") : null,
      ].filter(Boolean));
    }
  }
}
