// Video briefings: frames to the server over the room's socket (state.ws, opened by room.js).

import { state } from "./roomstate.js";

export function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}
