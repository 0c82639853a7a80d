// Colours for runs compared side by side: each run its own within a view, and told apart by
// colour-blind eyes (Paul Tol's qualitative schemes: "bright" up to 7, "muted" up to 9, his discrete
// rainbow for 12). Past 12, hues spread by the golden angle: distinct, though no longer checked for
// colour blindness.
const BRIGHT = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"];
const MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"];
const RAINBOW_12 = ["#882E72", "#1965B0", "#5289C7", "#7BAFDE", "#4EB265", "#90C987", "#CAE0AB", "#F7F056", "#F6C141", "#F1932D", "#E8601C", "#DC050C"];

export function runColors(count) {
  if (count <= BRIGHT.length) return BRIGHT.slice(0, count);
  if (count <= MUTED.length) return MUTED.slice(0, count);
  if (count <= RAINBOW_12.length) return RAINBOW_12.slice(0, count);
  return Array.from({ length: count }, (_, i) => `hsl(${Math.round((i * 137.508) % 360)}, 65%, 45%)`);
}
