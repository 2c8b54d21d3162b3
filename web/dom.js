// Small DOM helpers: elements are built from text, never from HTML strings, so no filename or
// caption can inject markup.

/** el("a", {href: "#x", class: "link"}, "text", child) → an element. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function formatBytes(size) {
  if (size === null || size === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The variant that fits a box of `box` px best: the smallest at least that large, else the largest. */
export function variantFor(item, box) {
  const variants = [...(item.variants || [])].sort((a, b) => Math.max(a.width, a.height) - Math.max(b.width, b.height));
  return variants.find((v) => Math.max(v.width, v.height) >= box) || variants.at(-1) || null;
}

/** A picture's URL for a box: the matching variant, or an image original (an SVG) that has none. */
export function pictureUrl(item, box) {
  const variant = item.variants?.find((v) => v.name === String(box)) || variantFor(item, box);
  if (variant) return variant.url;
  return item.kind === "image" && item.status === "ready" ? item.url : null;
}

export const SETTLED = new Set(["ready", "failed"]);
