// History by day, week, month or any range, searched and filtered: fix a session's
// name, task, tags and times, add a past session, delete, change or delete several at once,
// upload a CSV, download as CSV.
import {all, api, request, tagsOrNull} from "./api.js";
import {ACTIVE, KIND_NAMES, checkboxes, checkedValues, duration, field, formValues, h, localDate, localDateTime} from "./dom.js";

export function screen(app) {
  let main = null;
  let sessions = [];
  let tasks = [];
  let tags = null;
  let projects = [];
  let editing = null;
  let loads = 0;
  const selected = new Set();
  const query = {period: "day", date: localDate(), from: "", to: "", q: "", project: "", task: "", tag: "", kind: ""};
  const stop = app.on((event) => {
    if (event.type && event.type.startsWith("session.")) load();
  });

  function filter() {
    const params = new URLSearchParams();
    if (query.period === "range") {
      params.set("from", new Date(`${query.from || localDate()}T00:00`).toISOString());
      params.set("to", new Date(new Date(`${query.to || localDate()}T00:00`).getTime() + 86400000).toISOString());
    } else {
      params.set("period", query.period);
      params.set("date", query.date);
    }
    for (const name of ["q", "project", "task", "tag", "kind"]) if (query[name]) params.set(name, query[name]);
    return params.toString();
  }

  async function load() {
    // Live changes start loads that may overlap: only the latest one is drawn.
    const mine = ++loads;
    const answers = await Promise.all([all(`sessions/?${filter()}`, 500), all("tasks/"), tagsOrNull(), all("projects/")]);
    if (mine !== loads) return;
    [sessions, tasks, tags, projects] = answers;
    render();
  }

  const act = (run) => app.act(async () => { await run(); await load(); }, load);
  const taskTitle = (id) => (tasks.find((task) => task.id === id) || {title: ""}).title;
  const taskOptions = () => [["", "No task"], ...tasks.map((task) => [task.id, task.title])];
  const seconds = (session) => session.elapsed_seconds;

  // Only the times the person changed, at the minute precision of datetime-local: an edit
  // of the name alone must not replace the session's running spans by one.
  function changedTimes(session, values) {
    const changes = {};
    for (const name of ["started_at", "ended_at"]) {
      if (values[name] && values[name] !== localDateTime(session[name])) changes[name] = new Date(values[name]).toISOString();
    }
    return changes;
  }

  function row(session) {
    const label = session.name || taskTitle(session.task) || KIND_NAMES[session.kind];
    const when = new Date(session.started_at);
    if (editing === session.id) {
      const ended = !ACTIVE.has(session.state);
      return h("tr", {}, h("td", {colspan: 5}, h("form", {"aria-label": `Edit session ${label}`, onsubmit: (event) => {
        event.preventDefault();
        const form = event.target;
        const values = formValues(form);
        const changes = {name: values.name, task: values.task ? Number(values.task) : null};
        if (tags) changes.tags = checkedValues(form, "tags");
        Object.assign(changes, changedTimes(session, values));
        // A refusal leaves the form open with what was typed; the list behind it is read again.
        app.act(async () => {
          await api.patch(`sessions/${session.id}/`, changes);
          editing = null;
          rows.replaceChildren();
          await load();
        }, load);
      }},
      field("Name", {name: "name", value: session.name, maxlength: 200}),
      field("Task", {tag: "select", name: "task", value: session.task ?? "", options: taskOptions()}),
      tags ? checkboxes("Tags", "tags", tags.map((tag) => [tag.id, tag.name]), session.tags || []) : null,
      field("Started", {name: "started_at", type: "datetime-local", required: true, value: localDateTime(session.started_at)}),
      ended ? field("Ended", {name: "ended_at", type: "datetime-local", required: true, value: localDateTime(session.ended_at)})
        : h("p", {class: "hint"}, "Still active: only its start can move, to an earlier time."),
      h("button", {type: "submit"}, "Save"), " ",
      h("button", {type: "button", onclick: () => { editing = null; rows.replaceChildren(); render(); }}, "Cancel"))));
    }
    return h("tr", {},
      h("td", {}, h("input", {type: "checkbox", "aria-label": `Select ${label} at ${when.toLocaleTimeString()}`, checked: selected.has(session.id),
        onchange: (event) => { if (event.target.checked) selected.add(session.id); else selected.delete(session.id); renderSelection(); }}), " ",
      when.toLocaleString([], {dateStyle: "short", timeStyle: "short"})),
      h("td", {}, label, tags && session.tags && session.tags.length
        ? h("span", {class: "tags"}, ` · ${session.tags.map((id) => (tags.find((tag) => tag.id === id) || {name: "?"}).name).join(", ")}`) : ""),
      h("td", {}, `${KIND_NAMES[session.kind]}, ${session.state}`),
      h("td", {}, duration(seconds(session))),
      h("td", {class: "row"},
        h("button", {type: "button", "aria-label": `Edit ${label} at ${when.toLocaleTimeString()}`, onclick: () => { editing = session.id; rows.replaceChildren(); render(); }}, "Edit"),
        h("button", {type: "button", "aria-label": `Delete ${label} at ${when.toLocaleTimeString()}`, onclick: () => {
          if (confirm(`Delete “${label}”?`)) act(() => api.del(`sessions/${session.id}/`));
        }}, "Delete")));
  }

  const total = h("p", {id: "history-total", role: "status"});
  const rows = h("div", {id: "history-list"});
  const exportLink = h("a", {download: "sessions.csv"}, "Export CSV");
  const logTask = h("div");
  const filterChoices = h("div", {class: "filters"});
  const selection = h("div", {class: "selection", role: "group", "aria-label": "Selected sessions"});

  // What can be done to the selected sessions, at once (all or nothing).
  function renderSelection() {
    const ids = [...selected];
    const bulk = (body) => act(async () => {
      const {count} = await api.post("sessions/bulk/", {ids, ...body});
      selected.clear();
      // Unticked at once: the boxes must say what the next action would act on.
      if (editing === null) rows.replaceChildren();
      render();
      app.show(`${count} session${count === 1 ? "" : "s"} changed.`, "info");
    });
    const chosenTask = selection.querySelector("#bulk-task")?.value ?? "";
    const chosenTag = selection.querySelector("#bulk-tag")?.value;
    selection.replaceChildren(
      h("span", {id: "selected-count"}, `${ids.length} selected`), " ",
      h("button", {type: "button", disabled: !ids.length, onclick: () => {
        if (confirm(`Delete ${ids.length} session${ids.length === 1 ? "" : "s"}?`)) bulk({action: "delete"});
      }}, "Delete selected"),
      field("Task for the selected", {tag: "select", id: "bulk-task", value: chosenTask, options: taskOptions()}),
      h("button", {type: "button", disabled: !ids.length, onclick: () => {
        const task = selection.querySelector("#bulk-task").value;
        bulk({action: "update", changes: {task: task ? Number(task) : null}});
      }}, "Set the task"),
      ...(tags && tags.length ? [
        field("Tag to add to the selected", {tag: "select", id: "bulk-tag", value: chosenTag, options: tags.map((tag) => [tag.id, tag.name])}),
        h("button", {type: "button", disabled: !ids.length, onclick: () => {
          bulk({action: "update", changes: {add_tags: [Number(selection.querySelector("#bulk-tag").value)]}});
        }}, "Add the tag")] : []));
  }
  const importResult = h("p", {id: "import-result", role: "status"});
  const importForm = h("form", {"aria-labelledby": "import-title", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    const form = event.target;
    const body = new FormData();
    body.append("file", form.querySelector("input[type=file]").files[0]);
    const dryRun = form.querySelector("input[name=dry_run]").checked;
    act(async () => {
      const result = await request("POST", `sessions/import/${dryRun ? "?dry_run=true" : ""}`, body);
      importResult.replaceChildren(`${dryRun ? "Would add" : "Added"} ${result.imported} session${result.imported === 1 ? "" : "s"}; skipped ${result.skipped.length}.`,
        result.skipped.length ? h("ul", {}, result.skipped.slice(0, 20).map((skip) => h("li", {}, `Row ${skip.row}: ${skip.reason}`))) : "");
    });
  }},
  h("h2", {id: "import-title"}, "Bring in sessions from a CSV file"),
  h("p", {}, "Toggl Track's detailed report, or this app's own CSV."),
  field("CSV file", {name: "file", type: "file", accept: ".csv,text/csv", required: true}),
  field("Check only, change nothing", {name: "dry_run", type: "checkbox"}),
  h("button", {type: "submit"}, "Upload"),
  importResult);

  // The forms are drawn once and keep what a person is typing; the list follows the
  // changes (an edit in progress holds it until it is saved or cancelled).
  function render() {
    if (!main) return;
    const focus = sessions.filter((s) => s.kind === "focus" || s.kind === "stopwatch").reduce((sum, s) => sum + seconds(s), 0);
    total.textContent = `${sessions.length} session${sessions.length === 1 ? "" : "s"}, ${duration(focus)} of focus`;
    const exportParams = new URLSearchParams({format: "csv"});
    if (sessions.length) {
      exportParams.set("from", sessions[sessions.length - 1].started_at);
      exportParams.set("to", new Date(Date.now() + 60000).toISOString());
    }
    exportLink.href = `/api/v1/sessions/export/?${exportParams}`;
    const chosen = logTask.querySelector("select") ? logTask.querySelector("select").value : "";
    logTask.replaceChildren(field("Task", {tag: "select", name: "task", value: chosen, options: taskOptions()}));
    // Redrawn with the lists, keeping what the person chose but has not applied yet.
    const chosenFilters = Object.fromEntries([...filterChoices.querySelectorAll("select")].map((element) => [element.name, element.value]));
    const filterValue = (name) => chosenFilters[name] ?? query[name];
    filterChoices.replaceChildren(
      field("Project", {tag: "select", name: "project", value: filterValue("project"), options: [["", "Any project"], ...projects.map((p) => [p.id, p.name])]}),
      field("Task", {tag: "select", name: "task", value: filterValue("task"), options: [["", "Any task"], ...tasks.map((t) => [t.id, t.title])]}),
      tags ? field("Tag", {tag: "select", name: "tag", value: filterValue("tag"), options: [["", "Any tag"], ...tags.map((t) => [t.id, t.name])]}) : null,
      field("Kind", {tag: "select", name: "kind", value: filterValue("kind"), options: [["", "Any kind"], ...Object.entries(KIND_NAMES)]}));
    renderSelection();
    importForm.hidden = tags === null;
    if (editing !== null && rows.querySelector("form")) return;
    rows.replaceChildren(sessions.length ? h("table", {class: "list"},
      h("caption", {class: "visually-hidden"}, "Sessions"),
      h("thead", {}, h("tr", {}, ["Started", "Name", "Kind", "Duration", "Actions"].map((name) => h("th", {scope: "col"}, name)))),
      h("tbody", {id: "history-rows"}, sessions.map(row))) : h("p", {}, "No sessions in this period."));
  }

  function draw() {
    main.replaceChildren(h("h1", {}, "History"),
      h("form", {class: "filters", "aria-label": "Which sessions", onsubmit: (event) => {
        event.preventDefault();
        Object.assign(query, formValues(event.target));
        selected.clear();
        load();
      }},
      field("Period", {tag: "select", name: "period", value: query.period, options: [["day", "Day"], ["week", "Week"], ["month", "Month"], ["range", "Range"]]}),
      field("Date", {name: "date", type: "date", value: query.date}),
      field("From", {name: "from", type: "date", value: query.date}),
      field("To", {name: "to", type: "date", value: query.date}),
      field("Search", {name: "q", type: "search", value: query.q}),
      filterChoices,
      h("button", {type: "submit"}, "Show")),
      total, selection, rows, h("p", {}, exportLink),
      h("form", {"aria-labelledby": "log-title", onsubmit: (event) => {
        event.preventDefault();
        const values = formValues(event.target);
        act(async () => {
          await api.post("sessions/log/", {kind: values.kind, name: values.name, task: values.task ? Number(values.task) : null,
            started_at: new Date(values.started_at).toISOString(), ended_at: new Date(values.ended_at).toISOString()});
          app.show("Session added.", "info");
        });
      }},
      h("h2", {id: "log-title"}, "Add a past session"),
      field("Kind", {tag: "select", name: "kind", value: "focus", options: Object.entries(KIND_NAMES)}),
      field("Name", {name: "name", maxlength: 200}),
      logTask,
      field("Started", {name: "started_at", type: "datetime-local", required: true, value: localDateTime(new Date(Date.now() - 3600000).toISOString())}),
      field("Ended", {name: "ended_at", type: "datetime-local", required: true, value: localDateTime(new Date(Date.now() - 2100000).toISOString())}),
      h("button", {type: "submit"}, "Add session")),
      importForm);
  }

  return {
    async enter(element) { main = element; draw(); await load(); },
    leave() { main = null; stop(); },
  };
}
