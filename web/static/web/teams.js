// Teams: create, invite by link, join from the link, roles, and the live board.
import {all, api} from "./api.js";
import {clockText, duration, field, formValues, h} from "./dom.js";

const STATES = {focus: "In focus", break: "On a break", paused: "Paused", idle: "Idle"};

export function screen(app, name, rest) {
  let main = null;
  let board = null;
  let ticker = null;
  const stop = app.on((message) => {
    if (message.type === "team.member_status" && board && message.team === board.team.id) {
      const member = board.members.find((item) => item.user.id === message.data.user.id);
      if (member) Object.assign(member, {state: message.data.state, remaining_seconds: message.data.remaining_seconds, at: Date.now()});
      renderBoard();
    }
  });

  async function list() {
    const teams = await all("teams/");
    main.replaceChildren(h("h1", {}, "Teams"),
      teams.length ? h("ul", {class: "cards"}, teams.map((team) => h("li", {class: "card"},
        h("h2", {}, h("a", {href: `#/teams/${team.id}`}, team.name)), h("p", {}, `Your role: ${team.role}`)))) : h("p", {}, "You are in no team yet."),
      h("form", {"aria-label": "New team", onsubmit: (event) => {
        event.preventDefault();
        app.act(async () => {
          const team = await api.post("teams/", formValues(event.target));
          location.hash = `#/teams/${team.id}`;
        });
      }},
      field("Team name", {name: "name", required: true, maxlength: 100}),
      h("button", {type: "submit"}, "Create team")));
  }

  async function join(code) {
    main.replaceChildren(h("h1", {}, "Join a team"),
      h("p", {}, "You were invited to a team."),
      h("button", {type: "button", class: "primary", onclick: () => app.act(async () => {
        const membership = await api.post("teams/join/", {code});
        app.show("You joined the team.", "info");
        location.hash = `#/teams/${membership.team || ""}`;
      })}, "Join the team"));
  }

  async function team(id) {
    const [team, members, status] = await Promise.all([api.get(`teams/${id}/`), all(`teams/${id}/members/`), api.get(`teams/${id}/status/`)]);
    board = {team, members: status.members.map((member) => ({...member, at: Date.now()})), roles: members};
    renderBoard();
    clearInterval(ticker);
    ticker = setInterval(renderClocks, 1000);
  }

  function renderClocks() {
    if (!main) return;
    for (const element of main.querySelectorAll("[data-remaining]")) {
      const member = board.members.find((item) => String(item.user.id) === element.dataset.remaining);
      if (member && member.remaining_seconds !== null && member.state !== "paused") {
        element.textContent = clockText(member.remaining_seconds - (Date.now() - member.at) / 1000);
      }
    }
  }

  function renderBoard() {
    if (!main || !board) return;
    const {team} = board;
    const manage = team.role === "owner" || team.role === "admin";
    const invite = h("p", {id: "invite"});
    main.replaceChildren(h("h1", {}, team.name),
      h("p", {}, h("a", {href: "#/teams"}, "All teams"), ` · your role: ${team.role}`),
      h("section", {"aria-labelledby": "board-title"},
        h("h2", {id: "board-title"}, "Live board"),
        h("table", {class: "list", id: "board"},
          h("thead", {}, h("tr", {}, ["Member", "Now", "Remaining", "Focus today"].map((text) => h("th", {scope: "col"}, text)))),
          h("tbody", {}, board.members.map((member) => h("tr", {},
            h("th", {scope: "row"}, member.user.display_name),
            h("td", {class: `state-${member.state}`}, STATES[member.state] || member.state),
            h("td", {"data-remaining": member.user.id}, member.remaining_seconds === null || member.remaining_seconds === undefined ? "–" : clockText(member.remaining_seconds)),
            h("td", {}, member.today_focus_seconds === undefined ? "–" : duration(member.today_focus_seconds))))))),
      h("section", {"aria-labelledby": "members-title"},
        h("h2", {id: "members-title"}, "Members"),
        h("ul", {class: "cards"}, board.roles.map((member) => h("li", {class: "card"},
          h("span", {}, `${member.user.display_name}: `),
          team.role === "owner" && member.user.id !== app.me.id
            ? field(`Role of ${member.user.display_name}`, {tag: "select", value: member.role, options: [["owner", "owner"], ["admin", "admin"], ["member", "member"]],
              onchange: (event) => app.act(() => api.patch(`teams/${team.id}/members/${member.user.id}/`, {role: event.target.value}).then(() => screenTeam()), screenTeam)})
            : member.role,
          (manage && member.user.id !== app.me.id) || member.user.id === app.me.id
            ? h("button", {type: "button", onclick: () => app.act(async () => {
              await api.del(`teams/${team.id}/members/${member.user.id}/`);
              if (member.user.id === app.me.id) location.hash = "#/teams"; else await screenTeam();
            }, screenTeam)}, member.user.id === app.me.id ? "Leave the team" : `Remove ${member.user.display_name}`) : null)))),
      manage ? h("section", {"aria-labelledby": "invite-title"},
        h("h2", {id: "invite-title"}, "Invite"),
        h("button", {type: "button", onclick: () => app.act(async () => {
          const answer = await api.post(`teams/${team.id}/invites/`);
          const link = `${location.origin}/#/join/${answer.code}`;
          invite.replaceChildren("Share this link (valid until ", new Date(answer.expires_at).toLocaleString(), "): ", h("a", {href: link, id: "invite-link"}, link));
        })}, "Create an invite link"), invite) : null);
    renderClocks();
  }

  const screenTeam = () => team(rest[0]);

  return {
    async enter(element) {
      main = element;
      if (name === "join") await join(rest[0]);
      else if (rest[0]) await app.act(screenTeam);
      else await list();
    },
    leave() { main = null; clearInterval(ticker); stop(); },
  };
}
