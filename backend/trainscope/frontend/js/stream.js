// The websocket client: history then live events; reconnects and resumes after the last seq it saw.
import { jobSocketUrl } from "./api.js";

// closes that a retry cannot mend: done, bad query, forbidden Origin, unknown job, viewer spoke
const FINAL_CODES = new Set([1000, 1008, 4400, 4403, 4404]);

// The first connection asks for a compact history (a long run's points thinned on the server);
// reconnections ask for exactly what was missed.
export function followJob(jobId, { onEvents, onClose }) {
  let lastSeq = 0;
  let socket = null;
  let stopped = false;
  let retryMs = 250;

  function open() {
    socket = new WebSocket(jobSocketUrl(jobId, lastSeq, lastSeq === 0 ? "compact" : "full"));
    socket.onmessage = (message) => {
      retryMs = 250;
      const fresh = JSON.parse(message.data).filter((event) => event.seq > lastSeq);
      if (fresh.length) {
        lastSeq = fresh[fresh.length - 1].seq;
        onEvents(fresh);
      }
    };
    socket.onclose = (event) => {
      if (stopped || FINAL_CODES.has(event.code)) {
        if (onClose) onClose(event);
        return;
      }
      setTimeout(open, retryMs); // dropped or too slow (4008): resume with ?after=lastSeq
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  open();
  return {
    close() {
      stopped = true;
      if (socket) socket.close(1000);
    },
  };
}
