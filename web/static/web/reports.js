// Reports: focus per day as SVG bars with their numbers written on them (readable
// without colour) and as a table for screen readers; per task; the 7×24 heatmap;
// streaks and badges; the leaderboard.
import {api} from "./api.js";
import {duration, field, formValues, h, localDate} from "./dom.js";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

function bars(byDay) {
  const width = 64;
  const height = 120;
  const max = Math.max(60, ...byDay.map((day) => day.focus_seconds));
  return h("svg", {viewBox: `0 0 ${byDay.length * width} ${height + 40}`, class: "bars", role: "img", "aria-labelledby": "bars-title"},
    h("title", {id: "bars-title"}, "Focus per day (the table below has the numbers)"),
    byDay.map((day, index) => {
      const barHeight = Math.round((day.focus_seconds / max) * height);
      const minutes = Math.round(day.focus_seconds / 60);
      return h("g", {},
        h("rect", {x: index * width + 6, y: height - barHeight + 16, width: width - 12, height: barHeight, class: "bar"}),
        h("text", {x: index * width + width / 2, y: height - barHeight + 12, "text-anchor": "middle", class: "value"}, String(minutes)),
        h("text", {x: index * width + width / 2, y: height + 32, "text-anchor": "middle", class: "label"},
          new Date(`${day.date}T12:00`).toLocaleDateString([], {weekday: "short", day: "numeric"})));
    }));
}

function heatmap(cells) {
  const size = 14;
  const max = Math.max(1, ...cells.flat());
  return h("svg", {viewBox: `0 0 ${40 + 24 * size} ${7 * size + 20}`, class: "heatmap", role: "img", "aria-labelledby": "heat-title"},
    h("title", {id: "heat-title"}, "Focus by weekday and hour (the table below has the numbers)"),
    cells.map((hours, day) => h("g", {},
      h("text", {x: 0, y: day * size + 11, class: "label"}, DAYS[day].slice(0, 3)),
      hours.map((seconds, hour) => h("rect", {x: 40 + hour * size, y: day * size, width: size - 2, height: size - 2,
        class: `cell level-${Math.ceil((seconds / max) * 4)}`}, h("title", {}, `${DAYS[day]} ${hour}:00, ${duration(seconds)}`))))),
    [0, 6, 12, 18].map((hour) => h("text", {x: 40 + hour * size, y: 7 * size + 14, class: "label"}, `${hour}h`)));
}

function table(caption, headers, rows, hidden) {
  // A table sizes itself to its cells: the hiding is on a box around it.
  if (hidden) return h("div", {class: "visually-hidden"}, table(caption, headers, rows, false));
  return h("table", {class: "list"},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", {scope: "col"}, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, index) => index ? h("td", {}, cell) : h("th", {scope: "row"}, cell))))));
}

function reportBars(groups) {
  const rowHeight = 26;
  const max = Math.max(1, ...groups.map((group) => group.seconds));
  return h("svg", {viewBox: `0 0 600 ${groups.length * rowHeight + 4}`, class: "hbars", role: "img", "aria-labelledby": "report-bars-title"},
    h("title", {id: "report-bars-title"}, "Time per group (the table below has the numbers)"),
    groups.map((group, index) => h("g", {},
      h("text", {x: 0, y: index * rowHeight + 17, class: "label"}, group.label.slice(0, 24)),
      h("rect", {x: 170, y: index * rowHeight + 4, height: rowHeight - 8, width: Math.max(1, Math.round((group.seconds / max) * 330)), class: "bar"}),
      h("text", {x: 176 + Math.round((group.seconds / max) * 330), y: index * rowHeight + 17, class: "value"}, duration(group.seconds)))));
}

function rangeReport(app) {
  const result = h("div", {id: "report-result"});
  const today = localDate();
  const monthAgo = localDate(new Date(Date.now() - 29 * 86400000));
  return h("section", {"aria-labelledby": "range-title"},
    h("h2", {id: "range-title"}, "Report over any range"),
    h("form", {class: "filters", "aria-label": "Report", onsubmit: (event) => {
      event.preventDefault();
      const values = formValues(event.target);
      app.act(async () => {
        const report = await api.get(`analytics/report/?from=${values.from}&to=${values.to}&group_by=${values.group_by}`);
        result.replaceChildren(
          h("p", {}, `${duration(report.total_seconds)} from ${report.from} to ${report.to}.`),
          report.groups.length ? reportBars(report.groups) : h("p", {}, "Nothing in this range."),
          table("Report", ["Group", "Time", "Sessions"], report.groups.map((group) => [group.label, duration(group.seconds), String(group.sessions)])));
      });
    }},
    field("From", {name: "from", type: "date", value: monthAgo, required: true}),
    field("To", {name: "to", type: "date", value: today, required: true}),
    field("Group by", {tag: "select", name: "group_by", value: "project", options: [["project", "Project"], ["task", "Task"], ["tag", "Tag"], ["day", "Day"], ["week", "Week"], ["month", "Month"]]}),
    h("button", {type: "submit"}, "Make the report")),
    result);
}

export function screen(app) {
  let main = null;
  const query = {period: "week", date: localDate(), leaderboard: "week"};

  async function load() {
    const to = new Date();
    const from = new Date(to.getTime() - 27 * 86400000);
    const [summary, heat, streak, leaders, reportSupported] = await Promise.all([
      api.get(`analytics/summary/?period=${query.period}&date=${query.date}`),
      api.get(`analytics/heatmap/?from=${localDate(from)}&to=${localDate(to)}`),
      api.get("analytics/streak/"),
      api.get(`leaderboard/?period=${query.leaderboard}`),
      // The range report came later to the API: shown when the server has it.
      api.get(`analytics/report/?from=${localDate()}&to=${localDate()}&group_by=day`).then(() => true, () => false),
    ]);
    if (!main) return;
    main.replaceChildren(h("h1", {}, "Reports"),
      h("form", {class: "filters", "aria-label": "Which period", onsubmit: (event) => {
        event.preventDefault();
        Object.assign(query, formValues(event.target));
        load();
      }},
      field("Period", {tag: "select", name: "period", value: query.period, options: [["day", "Day"], ["week", "Week"], ["month", "Month"]]}),
      field("Date", {name: "date", type: "date", value: query.date}),
      field("Leaderboard", {tag: "select", name: "leaderboard", value: query.leaderboard, options: [["today", "Today"], ["week", "This week"], ["all", "All time"]]}),
      h("button", {type: "submit"}, "Show")),
      h("section", {"aria-labelledby": "focus-title"},
        h("h2", {id: "focus-title"}, `Focus from ${summary.start.slice(0, 10)}: ${duration(summary.focus_seconds)}`),
        h("p", {}, `${summary.completed_focus_count} completed, ${summary.interrupted_count} interrupted; the period before: ${duration(summary.previous_focus_seconds)}.`),
        bars(summary.by_day),
        table("Focus per day (minutes)", ["Day", "Minutes"], summary.by_day.map((day) => [day.date, Math.round(day.focus_seconds / 60)]), true)),
      h("section", {"aria-labelledby": "tasks-report-title"},
        h("h2", {id: "tasks-report-title"}, "Per task"),
        summary.by_task.length
          ? table("Focus per task", ["Task", "Focus", "Goal"], summary.by_task.map((task) => [task.title || "(no task)", duration(task.focus_seconds), task.goal_seconds ? duration(task.goal_seconds) : "none"]))
          : h("p", {}, "No focus on tasks in this period.")),
      h("section", {"aria-labelledby": "heat-section"},
        h("h2", {id: "heat-section"}, "When you focus (last 4 weeks)"),
        heatmap(heat.cells),
        table("Focus minutes by weekday and hour", ["Day", ...Array.from({length: 24}, (_, hour) => `${hour}h`)],
          heat.cells.map((hours, day) => [DAYS[day], ...hours.map((seconds) => Math.round(seconds / 60))]), true)),
      h("section", {"aria-labelledby": "streak-title"},
        h("h2", {id: "streak-title"}, "Streaks and badges"),
        h("p", {id: "streak"}, `Current streak: ${streak.current_days} day${streak.current_days === 1 ? "" : "s"}; longest: ${streak.longest_days}.`),
        streak.badges.length ? h("ul", {}, streak.badges.map((badge) => h("li", {}, `${badge.name} (${badge.earned_at.slice(0, 10)})`))) : h("p", {}, "No badges yet.")),
      h("section", {"aria-labelledby": "leaders-title"},
        h("h2", {id: "leaders-title"}, "Leaderboard"),
        leaders.results.length
          ? table("Leaderboard", ["Rank", "Name", "Focus"], leaders.results.map((row) => [String(row.rank), row.user.display_name, duration(row.focus_seconds)]))
          : h("p", {}, "Nobody on the board yet."),
        h("p", {}, "To leave the board, use ", h("a", {href: "#/settings"}, "Settings"), ".")),
      reportSupported ? rangeReport(app) : null);
  }

  return {
    async enter(element) { main = element; await app.act(load); },
    leave() { main = null; },
  };
}
