// The workshop room. A page with the token presents: it reports what it shows (page, lesson, form
// settings) as it changes. A page without it follows: the server pushes the presenter's state and
// each run and group the moment it is queued, and the page turns to them (see stream/room.py).
import { hasToken, present, roomSocketUrl } from "./api.js";

export const presenting = (meta) => meta.token_required && hasToken();

// Report the presenter's state, at most once per 300 ms (a dragged slider sends the last value).
export function presenter() {
  let timer = null;
  let latest = null;
  return (state) => {
    latest = state;
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      present(latest).catch(() => {}); // a follower misses one change at worst; the next one carries all
    }, 300);
  };
}

// Follow the room: handlers.onPresenter(state), onJob(job), onGroup(group). Reconnects when dropped.
export function followRoom(handlers) {
  let retryMs = 250;
  let stopped = false;
  let socket;
  function open() {
    socket = new WebSocket(roomSocketUrl());
    socket.onmessage = (message) => {
      retryMs = 250;
      for (const event of JSON.parse(message.data)) {
        if (event.type === "presenter") handlers.onPresenter?.(event);
        else if (event.type === "job") handlers.onJob?.(event.job);
        else if (event.type === "group") handlers.onGroup?.(event.group);
      }
    };
    socket.onclose = (event) => {
      if (stopped || event.code === 4403) return;
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }
  open();
  return { close: () => { stopped = true; socket.close(1000); } };
}
