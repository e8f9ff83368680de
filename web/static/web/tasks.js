// Tasks and projects: create, edit, archive, delete; daily goals and today's progress.
import {all, api, tagsOrNull} from "./api.js";
import {duration, field, formValues, h} from "./dom.js";

export function screen(app) {
  let main = null;
  let projects = [];
  let tasks = [];
  let tags = null;
  let editing = null;
  const stop = app.on((event) => {
    if (event.type && /^(task|project|tag)\./.test(event.type)) load();
  });

  async function load() {
    [projects, tasks, tags] = await Promise.all([all("projects/"), all("tasks/"), tagsOrNull()]);
    render();
  }

  const act = (run) => app.act(async () => { await run(); await load(); }, load);

  function projectName(id) {
    const project = projects.find((item) => item.id === id);
    return project ? project.name : "No project";
  }

  function taskRow(task) {
    if (editing === task.id) {
      return h("li", {class: "card"}, h("form", {"aria-label": `Edit ${task.title}`, onsubmit: (event) => {
        event.preventDefault();
        const values = formValues(event.target);
        editing = null;
        taskList.replaceChildren();
        act(() => api.patch(`tasks/${task.id}/`, {title: values.title, project: values.project ? Number(values.project) : null,
          daily_goal_minutes: values.daily_goal_minutes ? Number(values.daily_goal_minutes) : null}));
      }},
      field("Title", {name: "title", value: task.title, required: true}),
      field("Project", {tag: "select", name: "project", value: task.project ?? "", options: [["", "No project"], ...projects.map((p) => [p.id, p.name])]}),
      field("Daily goal (minutes)", {name: "daily_goal_minutes", type: "number", min: 1, value: task.daily_goal_minutes ?? ""}),
      h("button", {type: "submit"}, "Save"), " ",
      h("button", {type: "button", onclick: () => { editing = null; taskList.replaceChildren(); render(); }}, "Cancel")));
    }
    const goal = task.daily_goal_minutes;
    return h("li", {class: `card${task.archived ? " archived" : ""}`},
      h("h3", {}, task.title, task.archived ? " (archived)" : ""),
      h("p", {}, projectName(task.project), " · today ", duration(task.today_focus_seconds),
        goal ? [` of ${goal} min goal `, h("progress", {max: goal * 60, value: Math.min(task.today_focus_seconds, goal * 60), "aria-label": `${task.title}: goal progress`})] : ""),
      h("div", {class: "row"},
        h("button", {type: "button", "aria-label": `Edit ${task.title}`, onclick: () => { editing = task.id; taskList.replaceChildren(); render(); }}, "Edit"),
        h("button", {type: "button", "aria-label": `${task.archived ? "Unarchive" : "Archive"} ${task.title}`,
          onclick: () => act(() => api.patch(`tasks/${task.id}/`, {archived: !task.archived}))}, task.archived ? "Unarchive" : "Archive"),
        h("button", {type: "button", "aria-label": `Delete ${task.title}`, onclick: () => {
          if (confirm(`Delete the task “${task.title}”? Its tracked time stays in history.`)) act(() => api.del(`tasks/${task.id}/`));
        }}, "Delete")));
  }

  const projectOptions = () => [["", "No project"], ...projects.map((p) => [p.id, p.name])];
  const taskList = h("ul", {class: "cards", id: "task-list", "aria-label": "Tasks"});
  const projectList = h("ul", {class: "cards", id: "project-list", "aria-label": "Projects"});
  const tagSection = h("section", {"aria-labelledby": "tags-title", hidden: true},
    h("h2", {id: "tags-title"}, "Tags"),
    h("form", {"aria-label": "New tag", onsubmit: (event) => {
      event.preventDefault();
      const form = event.target;
      const values = formValues(form);
      act(async () => { await api.post("tags/", values); form.reset(); });
    }},
    field("Tag name", {name: "name", required: true, maxlength: 50}),
    h("button", {type: "submit"}, "Add tag")),
    h("ul", {class: "row", id: "tag-list", "aria-label": "Tags"}));
  const projectSelect = field("Project", {tag: "select", name: "project", options: projectOptions()});

  // The forms are drawn once and keep what a person is typing; the lists follow the
  // changes (an edit in progress holds its list until it is saved or cancelled).
  function render() {
    if (!main) return;
    const select = projectSelect.querySelector("select");
    const chosen = select.value;
    select.replaceChildren(...projectOptions().map(([value, text]) => h("option", {value, selected: String(value) === chosen}, text)));
    if (editing === null || !taskList.querySelector("form")) {
      taskList.replaceChildren(...(tasks.length ? tasks.map(taskRow) : [h("li", {}, "No tasks yet.")]));
    }
    tagSection.hidden = tags === null;
    tagSection.querySelector("#tag-list").replaceChildren(...(tags || []).map((tag) => h("li", {class: "card"}, `${tag.name} `,
      h("button", {type: "button", "aria-label": `Delete tag ${tag.name}`, onclick: () => {
        if (confirm(`Delete the tag “${tag.name}”? It leaves the sessions that have it.`)) act(() => api.del(`tags/${tag.id}/`));
      }}, "Delete"))));
    projectList.replaceChildren(...projects.map((project) => h("li", {class: "card"},
      h("h3", {}, project.name),
      h("div", {class: "row"},
        h("button", {type: "button", "aria-label": `Rename ${project.name}`, onclick: () => {
          const name = prompt("New name", project.name);
          if (name) act(() => api.patch(`projects/${project.id}/`, {name}));
        }}, "Rename"),
        h("button", {type: "button", "aria-label": `Delete ${project.name}`, onclick: () => {
          if (confirm(`Delete the project “${project.name}”?`)) act(() => api.del(`projects/${project.id}/`));
        }}, "Delete")))));
  }

  function draw() {
    main.replaceChildren(h("h1", {}, "Tasks and projects"),
      h("div", {class: "columns"},
        h("section", {"aria-labelledby": "tasks-title"},
          h("h2", {id: "tasks-title"}, "Tasks"),
          h("form", {"aria-label": "New task", onsubmit: (event) => {
            event.preventDefault();
            const form = event.target;
            const values = formValues(form);
            act(async () => {
              await api.post("tasks/", {title: values.title, project: values.project ? Number(values.project) : null,
                daily_goal_minutes: values.daily_goal_minutes ? Number(values.daily_goal_minutes) : null});
              form.reset();
            });
          }},
          field("Task title", {name: "title", required: true, maxlength: 200}),
          projectSelect,
          field("Daily goal (minutes)", {name: "daily_goal_minutes", type: "number", min: 1}),
          h("button", {type: "submit"}, "Add task")),
          taskList),
        h("section", {"aria-labelledby": "projects-title"},
          h("h2", {id: "projects-title"}, "Projects"),
          h("form", {"aria-label": "New project", onsubmit: (event) => {
            event.preventDefault();
            const form = event.target;
            const values = formValues(form);
            act(async () => { await api.post("projects/", values); form.reset(); });
          }},
          field("Project name", {name: "name", required: true, maxlength: 100}),
          h("button", {type: "submit"}, "Add project")),
          projectList),
        tagSection));
  }

  return {
    async enter(element) { main = element; draw(); await load(); },
    leave() { main = null; stop(); },
  };
}
