// The timer screen and the active session. The clock is computed from the session's
// server_time, elapsed_seconds and state, and this device's offset from the server's
// clock: every device shows the same second, and a sleeping tab does not drift.
import {all, api, clock, tagsOrNull} from "./api.js";
import {ACTIVE, KIND_NAMES, checkboxes, clockText, duration, field, h, localDateTime} from "./dom.js";

export function elapsedNow(session) {
  if (!session) return 0;
  let elapsed = session.elapsed_seconds;
  if (session.state === "running") {
    elapsed += Math.max(0, (Date.now() + clock.offsetMs - Date.parse(session.server_time)) / 1000);
  }
  return elapsed;
}

export function remainingNow(session) {
  return session.kind === "stopwatch" ? null : Math.max(0, session.planned_seconds - elapsedNow(session));
}

// The states a command applies to; pressed in another (an earlier press changed it),
// it does nothing rather than draw a refusal.
const COMMAND_FROM = {pause: new Set(["running"]), start: new Set(["paused"]), stop: ACTIVE};

export class Timer {
  constructor(app) {
    this.app = app;
    this.session = null;
    this.next = null;
    this.mode = "cycle";
    this.taskId = "";
    this.tasks = [];
    this.tags = null;
    this.tagIds = [];
    this.today = null;
    this.announced = new Set();
    this.lastAction = Promise.resolve();
    this.stopAtOpen = false;
    this.stopAt = this.stopAtForm();
    this.tick = this.tick.bind(this);
    setInterval(this.tick, 250);
  }

  // The truth from the server: the active session, the next step, today's figures.
  async refresh() {
    const [active, next, today, tasks, tags] = await Promise.all([
      api.get("sessions/active/"), api.get("sessions/next/"),
      api.get("analytics/summary/?period=day"), all("tasks/"), tagsOrNull(),
    ]).catch((problem) => {
      this.app.show(problem.message);
      return [this.session, this.next, this.today, this.tasks, this.tags];
    });
    this.setSession(active, {force: true});
    Object.assign(this, {next, today, tags, tasks: tasks.filter((task) => !task.archived)});
    this.render();
  }

  setSession(session, {force = false} = {}) {
    const current = this.session;
    if (session && !ACTIVE.has(session.state)) session = null;
    if (!force && session && current && session.id === current.id && session.version < current.version) return;
    this.session = session;
    if (session && session.task) this.taskId = String(session.task);
    if (session && session.tags) this.tagIds = session.tags;
  }

  apply(event) {
    const data = event.data || {};
    if (!/^(session|task|tag)\./.test(event.type) && event.type !== "settings.updated") return;
    if (event.type === "session.reset") this.setSession(data.new_session);
    else if (data.session) {
      const ended = !ACTIVE.has(data.session.state);
      if (ended && this.session && this.session.id !== data.session.id) {
        // An older session's change: the active one stays.
      } else this.setSession(data.session);
      if (event.type === "session.completed") this.announce(data.session);
    }
    clearTimeout(this.refreshSoon);
    // The next step and today's figures follow from the change: read them again.
    this.refreshSoon = setTimeout(() => this.refreshFigures(), 150);
    this.render();
  }

  async refreshFigures() {
    try {
      const [next, today, tasks, tags] = await Promise.all([api.get("sessions/next/"), api.get("analytics/summary/?period=day"), all("tasks/"), tagsOrNull()]);
      Object.assign(this, {next, today, tags, tasks: tasks.filter((task) => !task.archived)});
      this.render();
    } catch {
      // Offline: the figures are read again on reconnection.
    }
  }

  // A step that reached its end: a notification (when allowed) and a short sound, once.
  announce(session) {
    if (this.announced.has(session.id)) return;
    this.announced.add(session.id);
    const text = `${KIND_NAMES[session.kind]} finished`;
    document.body.dataset.lastAnnounced = String(session.id);
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification(text, {body: session.kind === "focus" ? "Time for a break." : "Back to focus.", tag: `session-${session.id}`}); } catch { /* not shown */ }
    }
    this.chime();
    this.app.show(text, "info");
  }

  chime() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch { /* no audio */ }
  }

  tick() {
    const session = this.session;
    let text;
    if (session) {
      const remaining = remainingNow(session);
      text = clockText(remaining === null ? elapsedNow(session) : remaining);
      if (remaining === 0 && session.state === "running" && !this.ending) {
        // Reached its end here: announce, then read what the server made of it.
        this.ending = true;
        this.announce(session);
        setTimeout(() => { this.ending = false; this.refresh(); }, 1200);
      }
      document.title = `${text} ${KIND_NAMES[session.kind]}${session.state === "paused" ? " (paused)" : ""} · Pomodoro`;
    } else {
      text = clockText(this.mode === "stopwatch" ? 0 : (this.next ? this.next.planned_seconds : 0));
      document.title = "Pomodoro";
    }
    if (this.clockElement && this.clockElement.textContent !== text) this.clockElement.textContent = text;
  }

  // Every action: the answer is the truth; a refusal is shown, then the truth re-read.
  // One at a time, in the order pressed: a press while the last is still waiting for
  // its answer (the socket may already have drawn the next state's buttons) runs after
  // it, never dropped. `run` reads the state when its turn comes.
  action(run) {
    const turn = this.lastAction.then(() => this.app.act(async () => {
      const session = await run();
      if (session !== undefined) this.setSession(session, {force: true});
      this.render();
    }, () => this.refresh()));
    this.lastAction = turn.catch(() => {});
    return turn;
  }

  // An action on the active session as it is when the action's turn comes (an earlier
  // press may have ended or replaced it), if it is then in one of `states`; else nothing.
  onActive(run, states = ACTIVE) {
    return this.action(() => {
      const session = this.session;
      if (!session || !states.has(session.state)) return undefined;
      return run(session);
    });
  }

  get active() {
    return Boolean(this.session && ACTIVE.has(this.session.state));
  }

  // A second press of Start, its turn come after the first one's answer: done already.
  start() {
    return this.action(() => (this.active ? undefined : this.create()));
  }

  // Space: pause, resume or start, whichever the state calls for at the action's turn.
  toggle() {
    return this.action(() => {
      if (!this.active) return this.create();
      const session = this.session;
      return api.post(`sessions/${session.id}/${session.state === "running" ? "pause" : "start"}/`);
    });
  }

  create() {
    const body = this.mode === "stopwatch" ? {kind: "stopwatch"} : {kind: this.next ? this.next.kind : "focus"};
    if (this.mode !== "stopwatch" && this.next) body.planned_seconds = this.next.planned_seconds;
    if (this.taskId) body.task = Number(this.taskId);
    if (this.tags && this.tagIds.length) body.tags = this.tagIds;
    return api.post("sessions/", body);
  }

  async chooseTags(ids) {
    this.tagIds = ids;
    await this.onActive((session) => api.patch(`sessions/${session.id}/`, {tags: ids}));
  }

  command(name) {
    return this.onActive((session) => api.post(`sessions/${session.id}/${name}/`), COMMAND_FROM[name]);
  }

  skip() {
    return this.onActive(async (session) => {
      const next = await api.get("sessions/next/");
      await api.post(`sessions/${session.id}/stop/`);
      const body = {kind: next.kind, planned_seconds: next.planned_seconds};
      if (this.taskId && next.kind === "focus") body.task = Number(this.taskId);
      return api.post("sessions/", body);
    });
  }

  // A forgotten timer: stopped at a past moment rather than now (stop/ with `at`). Its
  // names avoid the word "stop", which would make "Stop" ambiguous to a search by name.
  // Drawn once, so what is typed survives the redraws live changes cause; a refusal
  // leaves it open.
  stopAtForm() {
    return h("form", {id: "stop-at", class: "stop-at", "aria-label": "End at a past time", hidden: true, onsubmit: (event) => {
      event.preventDefault();
      const value = event.target.elements.at.value;
      if (!value) return;
      this.onActive(async (session) => {
        const stopped = await api.post(`sessions/${session.id}/stop/`, {at: new Date(value).toISOString()});
        this.stopAtOpen = false;
        return stopped;
      });
    }},
    field("Ended at", {name: "at", type: "datetime-local", required: true}),
    h("button", {type: "submit"}, "End at this time"), " ",
    h("button", {type: "button", onclick: () => this.openStopAt(false)}, "Cancel"));
  }

  openStopAt(open) {
    this.stopAtOpen = open;
    // Now by the server's clock, to the minute (datetime-local's precision).
    if (open) this.stopAt.elements.at.value = localDateTime(new Date(Date.now() + clock.offsetMs).toISOString());
    this.render();
    if (open) this.stopAt.elements.at.focus();
    else if (this.main) this.main.querySelector("[aria-controls=stop-at]")?.focus();
  }

  reset() {
    return this.onActive((session) => api.post(`sessions/${session.id}/reset/`));
  }

  async chooseTask(value) {
    this.taskId = value;
    await this.onActive((session) => api.patch(`sessions/${session.id}/`, {task: value ? Number(value) : null}));
  }

  shortcut(event) {
    if (event.key === " ") event.preventDefault();
    // A held key repeats: one action per press, not one per repeat.
    if (event.repeat) return;
    if (event.key === " ") this.toggle();
    else if (event.key === "s") this.command("stop");
    else if (event.key === "n") this.skip();
  }

  async enter(main) {
    this.main = main;
    this.render();
    await this.refresh();
    this.focusPrimary();
    // Time to usable: the timer drawn from the server's truth (tests/web/ print it).
    if (!document.body.dataset.usableMs) document.body.dataset.usableMs = String(Math.round(performance.now()));
  }

  leave() {
    this.main = null;
    this.clockElement = null;
  }

  focusPrimary() {
    const primary = this.main && this.main.querySelector("[data-primary]");
    if (primary && !this.main.contains(document.activeElement)) primary.focus();
  }

  render() {
    if (!this.main) return;
    const hadFocus = document.activeElement && this.main.contains(document.activeElement) ? document.activeElement.textContent : null;
    const typing = this.stopAt.contains(document.activeElement) ? document.activeElement : null;
    const session = this.session;
    const kind = session ? session.kind : (this.mode === "stopwatch" ? "stopwatch" : (this.next ? this.next.kind : "focus"));
    const button = (label, onclick, primary) => h("button", {type: "button", class: primary ? "primary" : "", "data-primary": primary || null, onclick}, label);
    let controls;
    if (!session) {
      controls = [button("Start", () => this.start(), true)];
      this.stopAtOpen = false;
    } else {
      controls = [session.state === "running" ? button("Pause", () => this.command("pause"), true) : button("Resume", () => this.command("start"), true),
        button("Stop", () => this.command("stop")),
        h("button", {type: "button", "aria-expanded": String(this.stopAtOpen), "aria-controls": "stop-at", onclick: () => this.openStopAt(!this.stopAtOpen)}, "End earlier…"),
        button("Reset", () => this.reset()), button("Skip", () => this.skip())];
    }
    this.stopAt.hidden = !this.stopAtOpen;
    this.clockElement = h("div", {class: "clock", role: "timer", "aria-label": "Time", "aria-live": "off"}, "");
    const taskOptions = [["", "No task"], ...this.tasks.map((task) => [task.id, task.title])];
    const goal = this.app.settings && this.app.settings.daily_goal_minutes;
    const focusSeconds = this.today ? this.today.focus_seconds : 0;
    const completed = this.today ? this.today.completed_focus_count : 0;
    const modes = h("fieldset", {class: "modes", disabled: Boolean(session)},
      h("legend", {}, "Mode"),
      ...[["cycle", "Pomodoro cycle"], ["stopwatch", "Stopwatch"]].map(([value, label]) => h("label", {},
        h("input", {type: "radio", name: "mode", value, checked: this.mode === value, onchange: () => { this.mode = value; this.render(); }}), ` ${label}`)));
    const notifyButton = "Notification" in window && Notification.permission === "default"
      ? h("button", {type: "button", class: "link", onclick: async () => { await Notification.requestPermission(); this.render(); }}, "Enable notifications")
      : null;
    this.main.replaceChildren(h("section", {class: `timer ${kind} ${session ? session.state : "idle"}`, "aria-labelledby": "timer-title"},
      h("h1", {id: "timer-title"}, KIND_NAMES[kind]),
      h("p", {class: "state", id: "timer-state"}, session ? (session.state === "running" ? "Running" : "Paused") : "Ready"),
      this.clockElement,
      h("div", {class: "controls"}, controls),
      session ? this.stopAt : null,
      modes,
      field("Task", {tag: "select", id: "timer-task", value: this.taskId, options: taskOptions, onchange: (event) => this.chooseTask(event.target.value)}),
      this.tags && this.tags.length ? h("div", {class: "timer-tags", onchange: (event) => {
        this.chooseTags([...event.currentTarget.querySelectorAll("input:checked")].map((input) => Number(input.value)));
      }}, checkboxes("Tags", "timer-tag", this.tags.map((tag) => [tag.id, tag.name]), this.tagIds)) : null,
      h("section", {class: "today", "aria-labelledby": "today-title"},
        h("h2", {id: "today-title"}, "Today"),
        h("p", {id: "today-count"}, `${completed} focus session${completed === 1 ? "" : "s"} completed · ${duration(focusSeconds)} of focus`),
        goal ? h("p", {}, h("label", {for: "goal-progress"}, `Daily goal: ${duration(Math.min(focusSeconds, goal * 60))} of ${goal} min`), " ",
          h("progress", {id: "goal-progress", max: goal * 60, value: Math.min(focusSeconds, goal * 60)})) : null),
      h("p", {class: "hints"}, notifyButton, " ",
        h("button", {type: "button", class: "link", onclick: () => document.getElementById("help").showModal()}, "Keyboard shortcuts"))));
    this.tick();
    if (typing && this.main.contains(typing)) typing.focus();
    else if (hadFocus) {
      const again = [...this.main.querySelectorAll("button")].find((element) => element.textContent === hadFocus);
      (again || this.main.querySelector("[data-primary]")).focus();
    }
  }
}
