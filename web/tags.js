// The tenant's folders and tags, read once per change and shared by the filters and the panel.
import { api } from "./api.js";

export class Catalogue {
  constructor() {
    this.folders = ["/"];
    this.tags = [];
  }

  async refresh() {
    const [folders, tags] = await Promise.all([api("GET", "/v1/folders"), api("GET", "/v1/tags")]);
    this.folders = folders.data.folders;
    this.tags = tags.data;
  }
}

/** Give the item exactly these tags (names or slugs); tags that do not exist yet are created. */
export async function saveTags(catalogue, mediaId, names) {
  const ids = [];
  for (const name of names) {
    const wanted = name.toLowerCase();
    let tag = catalogue.tags.find((t) => t.slug === wanted || t.name.toLowerCase() === wanted);
    if (!tag) {
      tag = (await api("POST", "/v1/tags", { body: { name } })).data;
      catalogue.tags.push(tag);
    }
    if (!ids.includes(tag.id)) ids.push(tag.id);
  }
  await api("PUT", `/v1/media/${encodeURIComponent(mediaId)}/tags`, { body: { tag_ids: ids } });
}
