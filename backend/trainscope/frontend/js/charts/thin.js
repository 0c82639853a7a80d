// Thinning that keeps a curve's shape: per bucket of steps, its lowest and its highest point (and the
// first and last point overall), so spikes and dips survive where every-other-point thinning dropped
// them. The server thins a compact replay the same way (jobs/reads.py minmax_indices), with the same
// buckets, so a replayed run draws the very points the live one did.
export const LOSS_BUCKETS = 1000; // the server's replay_max_points / 2

export function minMaxIndices(steps, values, buckets = LOSS_BUCKETS) {
  const n = steps.length; // always bucketed, even when short: the replay's extra points then drop alike
  if (!n) return [];
  const first = steps[0];
  const span = steps[n - 1] - first + 1;
  const low = new Array(buckets).fill(-1);
  const high = new Array(buckets).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(((steps[i] - first) * buckets) / span);
    if (low[b] < 0 || values[i] < values[low[b]]) low[b] = i;
    if (high[b] < 0 || values[i] > values[high[b]]) high[b] = i;
  }
  const kept = new Set([0, n - 1]);
  for (let b = 0; b < buckets; b++) if (low[b] >= 0) kept.add(low[b]).add(high[b]);
  return [...kept].sort((a, b) => a - b);
}

// TensorBoard's smoothing: an exponential moving average, debiased so the start is not pulled to 0,
// with the weight applied per step (weight^gap), so thinned points smooth as the raw ones would.
export function smooth(steps, values, weight) {
  const out = new Array(values.length);
  let ema = 0;
  let debias = 1;
  for (let i = 0; i < values.length; i++) {
    const w = i === 0 ? weight : weight ** Math.max(1, steps[i] - steps[i - 1]);
    ema = ema * w + values[i] * (1 - w);
    debias *= w;
    out[i] = weight > 0 ? ema / (1 - debias) : values[i];
  }
  return out;
}
