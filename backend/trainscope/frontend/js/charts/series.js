// Bounded series for long runs: past `cap` points, every other point is dropped (the newest always
// kept), so a 100,000-step run keeps its whole shape in a fixed number of points.
export class Series {
  constructor(cap = 4000) {
    this.cap = cap;
    this.x = [];
    this.y = [];
    this.extra = [];
  }

  push(x, y, extra) {
    this.x.push(x);
    this.y.push(y);
    this.extra.push(extra);
    if (this.x.length > this.cap) {
      const keep = (_, i, all) => i % 2 === 0 || i === all.length - 1;
      this.x = this.x.filter(keep);
      this.y = this.y.filter(keep);
      this.extra = this.extra.filter(keep);
    }
  }

  get length() {
    return this.x.length;
  }
}

// Coalesce bursts of events (a replay arrives 500 at a time) into one draw per animation frame.
export function scheduler(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}
