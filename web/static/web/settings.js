// Settings: profile, timezone, start of day and week, timer lengths, auto-start, the
// leaderboard opt-out, claiming a guest account, password, tokens, webhooks, the
// calendar link, the data download and the deletion of the account.
import {all, api, session} from "./api.js";
import {field, formValues, h} from "./dom.js";

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const numberOrNull = (value) => (value === "" ? null : Number(value));

export function screen(app) {
  let main = null;
  const saved = (what) => app.show(`${what} saved.`, "info");

  function section(id, title, ...children) {
    return h("section", {"aria-labelledby": id, class: "card"}, h("h2", {id}, title), ...children);
  }

  function form(label, onsubmit, ...children) {
    return h("form", {"aria-label": label, onsubmit: (event) => {
      event.preventDefault();
      app.act(() => onsubmit(formValues(event.target), event.target), load);
    }}, ...children);
  }

  async function load() {
    const [me, settings, tokens, webhooks] = await Promise.all([api.get("me/"), api.get("me/settings/"), all("me/tokens/"), all("webhooks/")]);
    app.me = me;
    app.settings = settings;
    if (!main) return;
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [me.timezone];
    if (!zones.includes(me.timezone)) zones.unshift(me.timezone);
    const secret = h("p", {id: "secret", role: "status"});
    main.replaceChildren(h("h1", {}, "Settings"),
      me.is_guest ? section("claim-title", "Keep your data: sign up",
        h("p", {}, "You are using a guest account. Give it an email and a password to keep everything you tracked."),
        form("Claim the account", async (values) => {
          await api.post("auth/claim/", values);
          // The password changed: sign in again so this session stays valid.
          await session("signin", values);
          saved("Account");
          await load();
        },
        field("Email", {name: "email", type: "email", required: true, autocomplete: "email"}),
        field("Password", {name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password"}),
        h("button", {type: "submit"}, "Sign up"))) : null,
      section("profile-title", "Profile",
        form("Profile", async (values) => {
          app.me = await api.patch("me/", {...values, week_starts_on: Number(values.week_starts_on)});
          saved("Profile");
        },
        field("Name", {name: "display_name", value: me.display_name, maxlength: 100}),
        field("Timezone", {tag: "select", name: "timezone", value: me.timezone, options: zones.map((zone) => [zone, zone])}),
        field("Day starts at", {name: "day_starts_at", type: "time", value: me.day_starts_at.slice(0, 5)}),
        field("Week starts on", {tag: "select", name: "week_starts_on", value: me.week_starts_on, options: WEEKDAYS.map((day, index) => [index, day])}),
        field("Leave me off the leaderboard", {name: "leaderboard_opt_out", type: "checkbox", checked: me.leaderboard_opt_out}),
        h("button", {type: "submit"}, "Save profile"))),
      section("timer-settings-title", "Timer",
        form("Timer settings", async (values) => {
          app.settings = await api.patch("me/settings/", {
            focus_minutes: Number(values.focus_minutes), short_break_minutes: Number(values.short_break_minutes),
            long_break_minutes: Number(values.long_break_minutes), long_break_every: Number(values.long_break_every),
            auto_start_breaks: values.auto_start_breaks, auto_start_focus: values.auto_start_focus,
            daily_goal_minutes: numberOrNull(values.daily_goal_minutes),
            ...("stopwatch_max_minutes" in values ? {stopwatch_max_minutes: numberOrNull(values.stopwatch_max_minutes)} : {}),
          });
          saved("Timer settings");
        },
        field("Focus (minutes)", {name: "focus_minutes", type: "number", min: 1, value: settings.focus_minutes}),
        field("Short break (minutes)", {name: "short_break_minutes", type: "number", min: 1, value: settings.short_break_minutes}),
        field("Long break (minutes)", {name: "long_break_minutes", type: "number", min: 1, value: settings.long_break_minutes}),
        field("Long break after this many focus sessions", {name: "long_break_every", type: "number", min: 1, value: settings.long_break_every}),
        field("Daily goal (minutes)", {name: "daily_goal_minutes", type: "number", min: 1, value: settings.daily_goal_minutes ?? ""}),
        ...("stopwatch_max_minutes" in settings ? [
          field("Stopwatch limit (minutes)", {name: "stopwatch_max_minutes", type: "number", min: 1, max: 1440,
            value: settings.stopwatch_max_minutes ?? "", "aria-describedby": "stopwatch-limit-hint"}),
          h("p", {id: "stopwatch-limit-hint", class: "hint"},
            "A running stopwatch is stopped there, as a forgotten timer. Leave it empty for no limit.")] : []),
        field("Start breaks by themselves", {name: "auto_start_breaks", type: "checkbox", checked: settings.auto_start_breaks}),
        field("Start focus by itself after a break", {name: "auto_start_focus", type: "checkbox", checked: settings.auto_start_focus}),
        h("button", {type: "submit"}, "Save timer settings"))),
      me.is_guest ? null : section("password-title", "Password",
        form("Change password", async (values, element) => {
          await api.post("auth/password/change/", values);
          // The change ends other sessions, this one too: sign in again with the new password.
          await session("signin", {email: me.email, password: values.new_password});
          element.reset();
          saved("Password");
        },
        field("Current password", {name: "current_password", type: "password", required: true, autocomplete: "current-password"}),
        field("New password", {name: "new_password", type: "password", required: true, minlength: 8, autocomplete: "new-password"}),
        h("button", {type: "submit"}, "Change password"))),
      section("tokens-title", "Personal access tokens",
        h("ul", {id: "tokens"}, tokens.map((token) => h("li", {}, `${token.name} (${token.scope}, ${token.prefix}…) `,
          h("button", {type: "button", "aria-label": `Delete token ${token.name}`, onclick: () => app.act(async () => { await api.del(`me/tokens/${token.id}/`); await load(); })}, "Delete")))),
        form("New token", async (values) => {
          const token = await api.post("me/tokens/", values);
          await load();
          main.querySelector("#secret").textContent = `Copy this token now, it is shown once: ${token.token}`;
        },
        field("Token name", {name: "name", required: true, maxlength: 100}),
        field("Scope", {tag: "select", name: "scope", value: "read", options: [["read", "read"], ["write", "write"]]}),
        h("button", {type: "submit"}, "Create token")), secret),
      section("webhooks-title", "Webhooks",
        h("ul", {id: "webhooks"}, webhooks.map((hook) => h("li", {}, `${hook.url} (${hook.active ? "active" : "disabled"}) `,
          h("button", {type: "button", "aria-label": `Delete webhook ${hook.url}`, onclick: () => app.act(async () => { await api.del(`webhooks/${hook.id}/`); await load(); })}, "Delete")))),
        form("New webhook", async (values) => {
          const hook = await api.post("webhooks/", {url: values.url, event_types: ["*"]});
          await load();
          main.querySelector("#secret").textContent = `The webhook's signing secret, shown once: ${hook.secret}`;
        },
        field("Webhook URL", {name: "url", type: "url", required: true}),
        h("button", {type: "submit"}, "Add webhook"))),
      section("calendar-title", "Calendar",
        h("p", {}, "A secret link your calendar app can subscribe to."),
        h("button", {type: "button", onclick: () => app.act(async () => {
          const feed = await api.post("me/calendar/");
          main.querySelector("#calendar-link").textContent = feed.url;
        })}, "Create a calendar link"), " ",
        h("button", {type: "button", onclick: () => app.act(async () => {
          await api.del("me/calendar/");
          main.querySelector("#calendar-link").textContent = "Revoked.";
        })}, "Revoke the calendar link"),
        h("p", {id: "calendar-link", role: "status"})),
      section("account-title", "Your account",
        h("p", {}, h("a", {href: "/api/v1/me/export/", download: "pomodoro-export.json"}, "Export all my data (JSON)")),
        h("p", {}, h("button", {type: "button", onclick: () => app.signOut()}, "Sign out")),
        form("Delete the account", async (values) => {
          if (!confirm("Delete your account and everything in it? This cannot be undone.")) return;
          await api.del("me/", me.is_guest ? {} : {password: values.password});
          location.assign("/");
        },
        me.is_guest ? null : field("Password to delete the account", {name: "password", type: "password", required: true, autocomplete: "current-password"}),
        h("button", {type: "submit", class: "danger"}, "Delete my account"))));
  }

  return {
    async enter(element) { main = element; await app.act(load); },
    leave() { main = null; },
  };
}
