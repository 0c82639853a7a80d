// User text (job, group and run names, labels) goes into markup only through escape(): it must reach
// the page as text, never as markup a visitor's browser would run.
export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
