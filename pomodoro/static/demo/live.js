// The reconnect loop of docs/api.md "Live updates": a fresh ticket per connection,
// resume with after=<last applied seq>, apply events in seq order.
const api = "/api/v1";
let access = null, lastSeq = 0, socket = null, session = null;
const $ = (id) => document.getElementById(id);
const log = (line) => { $("log").textContent += line + "\n"; };

async function call(method, path, body) {
  const response = await fetch(api + path, {
    method, headers: {"Content-Type": "application/json", "Authorization": "Bearer " + access},
    body: body === undefined ? undefined : JSON.stringify(body)});
  return response.status === 204 ? null : response.json();
}

function apply(event) {
  if (event.seq <= lastSeq) return;
  lastSeq = event.seq;
  $("seq").textContent = lastSeq;
  if (event.data && event.data.session) {
    session = event.type === "session.reset" ? event.data.new_session : event.data.session;
    $("state").textContent = session.state;
  }
  log(`#${event.seq} ${event.type}` + (event.data.session ? ` session ${event.data.session.id} ${event.data.session.state}` : ""));
}

async function connect() {
  const {ticket} = await call("POST", "/realtime/ticket/");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/v1/events/?ticket=${ticket}&after=${lastSeq}`);
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "hello") log(`connected, server last seq ${data.last_seq}`);
    else if (data.type === "ack" && !data.ok) log(`refused: ${data.error.code}`);
    else if ("seq" in data) apply(data);
  };
  socket.onclose = (event) => { log(`closed ${event.code}; reconnecting`); if (event.code !== 4401) setTimeout(connect, 1000); };
}

function command(action) {
  if (session) socket.send(JSON.stringify({action, session: session.id, request_id: String(Date.now())}));
}

$("login").onsubmit = async (submit) => {
  submit.preventDefault();
  const response = await fetch(api + "/auth/login/", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: $("email").value, password: $("password").value})});
  if (!response.ok) { log("login failed"); return; }
  access = (await response.json()).access;
  const active = await fetch(api + "/sessions/active/", {headers: {"Authorization": "Bearer " + access}});
  if (active.status === 200) { session = await active.json(); $("state").textContent = session.state; }
  const {last_seq} = await call("GET", "/events/?after=0");
  lastSeq = last_seq;
  $("seq").textContent = lastSeq;
  connect();
};
$("start").onclick = async () => { session = await call("POST", "/sessions/", {kind: "focus"}); };
$("pause").onclick = () => command("pause");
$("resume").onclick = () => command("start");
$("stop").onclick = () => command("stop");
