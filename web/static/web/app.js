// The web app's shell: sign-in, the router (#/timer, #/tasks, ...), the live
// connection and the notices. Each screen is a module that renders into <main>.
import {Problem, api, session, setCsrf} from "./api.js";
import {Live} from "./live.js";
import {h, field, formValues} from "./dom.js";
import {Timer} from "./timer.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const nav = document.getElementById("nav");
const connection = document.getElementById("connection");

export const app = {
  me: null,
  settings: null,
  live: null,
  timer: null,
  screen: null,
  listeners: new Set(),

  show(message, kind = "error") {
    notice.textContent = message;
    notice.className = `notice ${kind}`;
    notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { notice.hidden = true; }, kind === "error" ? 8000 : 4000);
  },

  // Runs an action; a refusal is shown to the person, and `recover` re-reads the truth.
  async act(action, recover) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      this.show(error.status === 0 ? error.message : `Refused: ${error.message}`);
      // Signed out elsewhere (or the session expired): back to the sign-in screen.
      if (this.me && (error.status === 401 || error.code === "not_authenticated")) return signedOut();
      if (recover) await recover();
      return undefined;
    }
  },

  // Screens subscribe to events while shown.
  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  },
};

async function signedIn() {
  document.body.dataset.signedIn = "true";
  [app.me, app.settings] = await Promise.all([api.get("me/"), api.get("me/settings/")]);
  nav.hidden = false;
  app.timer = new Timer(app);
  app.live = new Live({
    onEvent: (event) => {
      if (event.type === "settings.updated") app.settings = event.data.settings || app.settings;
      if (event.type === "profile.updated") app.me = event.data.profile || app.me;
      app.timer.apply(event);
      for (const listener of app.listeners) listener(event);
    },
    onTeamStatus: (message) => { for (const listener of app.listeners) listener(message); },
    onStatus: (state) => {
      connection.textContent = {online: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline: changes cannot be saved"}[state];
      connection.className = `connection ${state}`;
      document.body.dataset.connection = state;
    },
    onHello: () => app.timer.refresh(),
    onSignedOut: () => signedOut(),
  });
  app.live.connect();
  route();
}

function signedOut() {
  if (app.live) app.live.stop();
  app.live = null;
  app.me = null;
  document.body.dataset.signedIn = "false";
  nav.hidden = true;
  connection.textContent = "";
  document.title = "Pomodoro";
  route();
}

app.signOut = () => app.act(async () => {
  await session("signout");
  history.replaceState(null, "", "/");
  signedOut();
});

function render(...children) {
  if (app.screen && app.screen.leave) app.screen.leave();
  app.screen = null;
  main.replaceChildren(...children);
}

function welcome() {
  const guest = h("button", {type: "button", class: "primary", onclick: () => app.act(async () => {
    await session("guest");
    await signedIn();
  })}, "Start as a guest");
  const signInForm = h("form", {"aria-labelledby": "signin-title", onsubmit: (event) => {
    event.preventDefault();
    app.act(async () => {
      await session("signin", formValues(event.target));
      await signedIn();
    });
  }},
  h("h2", {id: "signin-title"}, "Sign in"),
  field("Email", {name: "email", type: "email", autocomplete: "username", required: true}),
  field("Password", {name: "password", type: "password", autocomplete: "current-password", required: true}),
  h("button", {type: "submit"}, "Sign in"),
  h("p", {}, h("a", {href: "#/forgot"}, "Forgot your password?")));
  const signUpForm = h("form", {"aria-labelledby": "signup-title", onsubmit: (event) => {
    event.preventDefault();
    app.act(async () => {
      const values = formValues(event.target);
      values.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      await session("signup", values);
      await signedIn();
    });
  }},
  h("h2", {id: "signup-title"}, "Sign up"),
  field("Name", {name: "display_name", autocomplete: "name"}),
  field("Email", {name: "email", type: "email", autocomplete: "email", required: true}),
  field("Password", {name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8}),
  h("button", {type: "submit"}, "Sign up"));
  render(h("section", {class: "welcome"},
    h("h1", {}, "Focus, one Pomodoro at a time"),
    h("p", {}, "Start at once as a guest and keep your data by signing up later, or sign in."),
    guest),
  h("div", {class: "columns"}, signInForm, signUpForm));
}

function forgot() {
  render(h("form", {"aria-labelledby": "forgot-title", onsubmit: (event) => {
    event.preventDefault();
    app.act(async () => {
      await api.post("auth/password/reset/", formValues(event.target));
      app.show("If an account has this email, a link to reset its password is on its way.", "info");
    });
  }},
  h("h1", {id: "forgot-title"}, "Reset your password"),
  field("Email", {name: "email", type: "email", autocomplete: "email", required: true}),
  h("button", {type: "submit"}, "Send the reset link"),
  h("p", {}, h("a", {href: "#/"}, "Back to sign in"))));
}

function resetPassword(token) {
  render(h("form", {"aria-labelledby": "reset-title", onsubmit: (event) => {
    event.preventDefault();
    app.act(async () => {
      await api.post("auth/password/reset/confirm/", {token, new_password: formValues(event.target).new_password});
      history.replaceState(null, "", "/#/");
      app.show("Your password is changed: sign in with it.", "info");
      route();
    });
  }},
  h("h1", {id: "reset-title"}, "Choose a new password"),
  field("New password", {name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8}),
  h("button", {type: "submit"}, "Set the new password")));
}

const SCREENS = {
  "": () => app.timer,
  tasks: () => import("./tasks.js"),
  history: () => import("./history.js"),
  reports: () => import("./reports.js"),
  teams: () => import("./teams.js"),
  join: () => import("./teams.js"),
  settings: () => import("./settings.js"),
};

async function route() {
  const token = new URLSearchParams(location.search).get("token");
  if (location.pathname === "/reset-password/" && token) return resetPassword(token);
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  if (document.body.dataset.signedIn !== "true") return name === "forgot" ? forgot() : welcome();
  if (!app.me) return signedIn();
  const load = SCREENS[name] || SCREENS[""];
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${name in SCREENS ? name : ""}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const loaded = await load();
  const screen = loaded.screen ? loaded.screen(app, name, rest) : loaded;
  render();
  app.screen = screen;
  await screen.enter(main, rest);
}

window.addEventListener("hashchange", () => {
  route().then(() => main.focus({preventScroll: true}));
});
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, button, a, [contenteditable]");
  if (event.key === "?" && !event.target.closest("input, textarea")) {
    event.preventDefault();
    document.getElementById("help").showModal();
  } else if (!typing && app.timer && app.screen === app.timer && !event.ctrlKey && !event.metaKey && !event.altKey) {
    app.timer.shortcut(event);
  }
});
setCsrf(document.body.dataset.csrf);
route();
