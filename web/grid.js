// The library grid: one page of the list at a time (cursor), more as the end scrolls into view,
// and items still pending or processing re-read until they settle.
import { api } from "./api.js";
import { el, pictureUrl, SETTLED } from "./dom.js";

const PAGE_SIZE = 24;
const REFRESH_MS = 1500;

export class Grid {
  constructor({ list, more, status, onOpen }) {
    this.list = list;
    this.more = more;
    this.status = status;
    this.onOpen = onOpen;
    this.filters = {};
    this.cursor = null;
    this.loading = null;
    this.generation = 0; // a newer search makes older pages' answers stale
    this.timer = null;
    more.addEventListener("click", () => this.loadMore());
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }).observe(more);
  }

  /** Start again from the first page with these filters. */
  async reload(filters = this.filters) {
    this.filters = filters;
    this.generation += 1;
    this.cursor = null;
    this.total = 0;
    this.list.replaceChildren();
    this.loading = null;
    await this.loadPage();
  }

  loadMore() {
    if (this.cursor && !this.loading) return this.loadPage();
    return this.loading;
  }

  loadPage() {
    const generation = this.generation;
    let failed = false; // a failed page is not retried by itself: "Load more" stays for the user
    this.status.textContent = "Loading…";
    this.loading = api("GET", "/v1/media", { query: { ...this.filters, limit: PAGE_SIZE, cursor: this.cursor } })
      .then(({ data, body }) => {
        if (generation !== this.generation) return;
        for (const item of data) this.upsert(item, { append: true });
        this.cursor = body.pagination.next_cursor;
        this.total = body.pagination.total;
        this.estimate = Boolean(body.pagination.total_is_estimate);
        this.count();
      })
      .catch((error) => {
        failed = true;
        if (generation === this.generation) this.status.textContent = `Could not load the library: ${error.message}`;
      })
      .finally(() => {
        if (generation !== this.generation) return;
        this.loading = null;
        this.more.hidden = !this.cursor;
        this.watchUnsettled();
        // Still in view (a tall screen, a short page): the observer will not fire again, so go on.
        if (this.cursor && !failed && this.more.getBoundingClientRect().top < window.innerHeight) this.loadMore();
      });
    return this.loading;
  }

  /** "n of total items" under the filters, or that nothing matches. */
  count() {
    const shown = this.list.children.length;
    this.total = Math.max(this.total || 0, shown);
    this.status.textContent = shown
      ? `${shown} of ${this.estimate ? "about " : ""}${this.total} items`
      : "No media matches.";
  }

  card(id) {
    return this.list.querySelector(`[data-media-id="${CSS.escape(id)}"]`);
  }

  /** Show an item: replace its card, else add it (at the end of a page, or first for a new upload). */
  upsert(item, { append = false, onlyExisting = false } = {}) {
    const existing = this.card(item.id);
    if (onlyExisting && !existing) return;
    const card = renderCard(item, this.onOpen);
    if (existing) existing.replaceWith(card);
    else if (append) this.list.append(card);
    else {
      this.list.prepend(card);
      this.total = (this.total || 0) + 1;
    }
    if (!existing && !append) this.count();
    this.watchUnsettled();
  }

  remove(id) {
    const card = this.card(id);
    if (!card) return;
    card.remove();
    this.total -= 1;
    this.count();
  }

  /** Re-read every pending or processing item until none is left. */
  watchUnsettled() {
    if (this.timer || !this.list.querySelector("[data-unsettled]")) return;
    this.timer = setTimeout(async () => {
      const ids = [...this.list.querySelectorAll("[data-unsettled]")].map((card) => card.dataset.mediaId);
      await Promise.all(
        ids.map((id) =>
          api("GET", `/v1/media/${encodeURIComponent(id)}`)
            .then(({ data }) => this.upsert(data))
            .catch((error) => {
              if (error.status === 404) this.remove(id); // deleted meanwhile; other errors: next round
            }),
        ),
      );
      this.timer = null;
      this.watchUnsettled();
    }, REFRESH_MS);
  }
}

function renderCard(item, onOpen) {
  const picture = pictureUrl(item, 400);
  const colour = item.placeholder?.dominant_color;
  const thumb = el("div", { class: "thumb", style: colour ? `background-color: ${colour}` : null });
  if (picture) {
    // The filename names the card; the alt text is shown and edited in the panel.
    const image = el("img", { src: picture, alt: "", loading: "lazy", decoding: "async" });
    image.addEventListener("load", () => thumb.classList.add("loaded"));
    thumb.append(image);
  } else {
    thumb.append(el("span", { class: "kind-icon", "aria-hidden": "true" }, item.kind));
  }
  const settled = SETTLED.has(item.status);
  return el(
    "li",
    {
      class: "card",
      dataset: { mediaId: item.id, status: item.status },
      "data-unsettled": settled ? null : "",
    },
    el(
      "button",
      { type: "button", class: "card-open", onclick: () => onOpen(item.id) },
      thumb,
      el("span", { class: "name" }, item.filename),
      el(
        "span",
        { class: "meta" },
        el("span", { class: "kind" }, item.kind),
        " · ",
        el("span", { class: `status status-${item.status}` }, item.status),
      ),
    ),
  );
}
