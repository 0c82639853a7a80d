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

// A shade of a "#rrggbb" colour: index 0 of count darkest, the last lightest (a second setting varied
// together with the one the hue tells).
export function shade(hex, index, count) {
  if (count < 2 || !hex.startsWith("#")) return hex;
  const share = -0.45 + (0.9 * index) / (count - 1); // below 0 towards black, above towards white
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const mixed = channels.map((c) => Math.round(share < 0 ? c * (1 + share) : c + (255 - c) * share));
  return `#${mixed.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

// Colours for a group's runs, one per variation (label; a variation's repeats on more seeds share it).
// Past 12 variations no palette keeps them apart, so an experiment of more than 12 (a grid) is coloured
// by what it varies: a hue per value of its first setting and a shade per value of its second (6 splits x
// 5 seeds: 6 hues in 5 shades, not 30 near-identical hues), its hues from a scheme the other experiments'
// runs do not use. Returns run -> colour, and each grid's key: its settings, hues and shades.
export function colorRuns(runs) {
  const parts = [...new Set(runs.map((run) => run.part))].map((part) => runs.filter((run) => run.part === part));
  const labelsOf = (mine) => [...new Set(mine.map((run) => run.label))];
  const total = labelsOf(runs).length;
  const gridded = parts.filter((mine) => total > RAINBOW_12.length && labelsOf(mine).length > RAINBOW_12.length);
  const plain = runs.filter((run) => !gridded.some((mine) => mine.includes(run)));
  const labels = labelsOf(plain);
  const colors = runColors(labels.length);
  const byRun = new Map(plain.map((run) => [run, colors[labels.indexOf(run.label)]]));
  const grids = [];
  for (const mine of gridded) {
    const changes = (run) => run.changes || {};
    const paths = [...new Set(mine.flatMap((run) => Object.keys(changes(run))))];
    const [first, second] = paths.slice(0, 2).map((path) => [...new Set(mine.map((run) => JSON.stringify(changes(run)[path])))]);
    if (!first || first.length > RAINBOW_12.length) {
      const spread = runColors(mine.length);
      mine.forEach((run, i) => byRun.set(run, spread[i]));
      continue;
    }
    const hues = first.length <= MUTED.length ? MUTED.slice(0, first.length) : RAINBOW_12.slice(0, first.length);
    const shades = second ? second.length : 1;
    for (const run of mine) {
      const hue = hues[first.indexOf(JSON.stringify(changes(run)[paths[0]]))];
      byRun.set(run, second ? shade(hue, second.indexOf(JSON.stringify(changes(run)[paths[1]])), shades) : hue);
    }
    const key = (values, colorOf) => values.map((value, i) => ({ color: colorOf(i), value: JSON.parse(value) }));
    grids.push({ part: mine[0].part, paths, hues: key(first, (i) => hues[i]), shades: second ? key(second, (i) => shade("#808080", i, shades)) : [] });
  }
  return { colorOf: (run) => byRun.get(run), grids };
}
