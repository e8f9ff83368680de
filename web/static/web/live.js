// The live connection of docs/api.md "Live updates": a fresh ticket per connection,
// resume with after=<last applied seq>, apply events once and in seq order; reconnect
// with back-off after sleep or a network loss; 4401 means signed out.
import {api, clock} from "./api.js";

export class Live {
  constructor({onEvent, onTeamStatus, onStatus, onHello, onSignedOut}) {
    Object.assign(this, {onEvent, onTeamStatus, onStatus, onHello, onSignedOut});
    this.lastSeq = null;
    this.socket = null;
    this.retryMs = 500;
    this.stopped = false;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.goneOffline());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  status(state) {
    this.state = state;
    this.onStatus(state);
  }

  reconnectNow() {
    if (this.stopped) return;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.timer);
    this.retryMs = 500;
    this.connect();
  }

  async connect() {
    if (this.stopped) return;
    this.status("connecting");
    let ticket;
    try {
      ticket = (await api.post("realtime/ticket/")).ticket;
    } catch (problem) {
      if (problem.status === 401 || problem.status === 403) return this.signedOut();
      return this.retry();
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const after = this.lastSeq === null ? "" : `&after=${this.lastSeq}`;
    const socket = new WebSocket(`${scheme}://${location.host}/ws/v1/events/?ticket=${encodeURIComponent(ticket)}${after}`);
    this.socket = socket;
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401) return this.signedOut();
      this.retry();
    };
  }

  receive(message) {
    if (message.type === "hello") {
      clock.offsetMs = Date.parse(message.server_time) - Date.now();
      const first = this.lastSeq === null;
      if (first) this.lastSeq = message.last_seq;
      this.retryMs = 500;
      this.status("online");
      this.onHello(first);
    } else if (message.type === "team.member_status") {
      this.onTeamStatus(message);
    } else if (typeof message.seq === "number") {
      if (message.seq <= this.lastSeq) return;
      this.lastSeq = message.seq;
      this.onEvent(message);
    }
  }

  retry() {
    if (this.stopped) return;
    this.status(navigator.onLine ? "reconnecting" : "offline");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 10000);
  }

  // The network is gone: the socket may linger without delivering anything, so drop it
  // and connect afresh (after=<last seq>) when the network is back.
  goneOffline() {
    clearTimeout(this.timer);
    this.dropSocket();
    this.status("offline");
  }

  dropSocket() {
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close();
    }
  }

  signedOut() {
    this.stop();
    this.onSignedOut();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.dropSocket();
  }
}
