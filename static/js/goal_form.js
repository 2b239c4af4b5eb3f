// The goal form's live SMART check: sends what the form holds to /metrics/goals/check/ (debounced)
// and shows each rule, the previous period's baseline and the target's unit. A failing or warning
// rule is also said beside the field it concerns, once the person has worked on that part of the
// form (or submitted it). Also adds milestone rows from the formset's empty form. The server
// validates again on submit.
(() => {
  const DEBOUNCE_MS = 350;
  const FIELDS = [
    "name",
    "metric",
    "target",
    "owner",
    "scope_playbook",
    "scope_owner",
    "start_date",
    "end_date",
  ];
  // A reason shows beside its field once any field of the same part of the form was used.
  const RELATED = {
    name: ["name"],
    metric: ["metric"],
    target: ["target", "metric"],
    owner: ["owner"],
    scope_tiers: ["scope_tiers", "scope_playbook", "scope_owner"],
    start_date: ["start_date", "end_date"],
    end_date: ["start_date", "end_date"],
  };
  const LEVEL_TEXT = { ok: "passes", warning: "warning", error: "fails", pending: "pending" };
  const SUMMARY = {
    smart: ["chip-on_track", "SMART"],
    warning: ["chip-at_risk", "SMART, with warnings"],
    error: ["chip-off_track", "Not SMART yet"],
  };
  const UNITS = {
    money: ["($)", "In dollars."],
    rate: ["(%)", "A percentage: 35 = 35%."],
    count: ["(count)", "A number of accounts, deals or meetings."],
  };

  function query(form) {
    const params = new URLSearchParams();
    if (form.dataset.goal) {
      params.append("goal", form.dataset.goal);
    }
    for (const name of FIELDS) {
      const field = form.elements.namedItem(name);
      if (field && field.value) {
        params.append(name, field.value.trim());
      }
    }
    for (const box of form.querySelectorAll("input[name='scope_tiers']:checked")) {
      params.append("scope_tiers", box.value);
    }
    return params;
  }

  function showUnit(form, units) {
    const metric = form.elements.namedItem("metric")?.value;
    const [label, help] = UNITS[units[metric]] || ["", "Choose a metric to see its unit."];
    for (const element of form.querySelectorAll("[data-unit-label]")) {
      element.textContent = label;
    }
    const helpText = form.querySelector("[data-unit-help]");
    if (helpText) {
      helpText.textContent = help;
    }
  }

  function showInline(form, checks, touched) {
    for (const old of form.querySelectorAll("[data-live-check]")) {
      old.remove();
    }
    const submitted = "submitted" in form.dataset || Boolean(form.dataset.goal);
    const reasons = {};
    for (const check of checks) {
      if (check.field && (check.level === "error" || check.level === "warning")) {
        (reasons[check.field] ||= []).push(check);
      }
    }
    for (const field of new Set([...Object.keys(RELATED), ...Object.keys(reasons)])) {
      const errors = document.getElementById(`id_${field}_error`);
      if (!errors) {
        continue;
      }
      const used = (RELATED[field] || [field]).some((name) => touched.has(name));
      // The server's reasons from the last submit stand until that part of the form changes.
      if (errors.children.length && !used) {
        continue;
      }
      if (used) {
        errors.replaceChildren();
        errors.closest(".has-error")?.classList.remove("has-error");
      }
      if (!used && !submitted) {
        continue;
      }
      for (const check of reasons[field] || []) {
        const reason = document.createElement("p");
        reason.className = `field-check is-${check.level}${check.strong ? " is-strong" : ""}`;
        reason.id = `id_${field}_check_${check.rule}`;
        reason.dataset.liveCheck = check.rule;
        reason.setAttribute("data-testid", `reason-${check.rule}`);
        reason.textContent = `${check.label}: ${check.message}`;
        errors.after(reason);
        const input = form.elements.namedItem(field);
        if (input && input.setAttribute) {
          const described = (input.getAttribute("aria-describedby") || "")
            .split(" ")
            .filter((id) => id && !id.startsWith(`id_${field}_check_`));
          input.setAttribute("aria-describedby", [...described, reason.id].join(" "));
        }
      }
    }
  }

  function render(panel, result) {
    let worst = "smart";
    for (const check of result.checks) {
      const item = panel.querySelector(`[data-rule='${check.rule}']`);
      if (!item) {
        continue;
      }
      item.className = `smart-item is-${check.level}`;
      item.dataset.level = check.level;
      item.querySelector("[data-rule-message]").textContent = check.message;
      item.querySelector("[data-rule-level]").textContent = LEVEL_TEXT[check.level] || "";
      if (check.level === "error" || check.level === "pending") {
        worst = "error";
      } else if (check.level === "warning" && worst === "smart") {
        worst = "warning";
      }
    }
    const summary = panel.querySelector("[data-smart-summary]");
    const [css, text] = SUMMARY[worst];
    summary.className = `chip ${css}`;
    summary.textContent = text;
    panel.dataset.smart = worst;
    panel.querySelector("[data-baseline-value]").textContent =
      result.baseline_display === null ? "—" : result.baseline_display;
    panel.querySelector("[data-baseline-period]").textContent = result.previous_period
      ? `Previous period: ${result.previous_period.label}, same accounts.`
      : "Appears once the metric and the dates are set.";
  }

  function start() {
    const form = document.getElementById("goal-form");
    const panel = document.querySelector("[data-testid='smart-check']");
    const unitsSource = document.getElementById("goal-units");
    if (!form || !panel) {
      return;
    }
    const units = unitsSource ? JSON.parse(unitsSource.textContent) : {};
    const problem = panel.querySelector("[data-check-error]");
    let timer = null;
    let controller = null;
    const touched = new Set();

    const check = async () => {
      controller?.abort();
      controller = new AbortController();
      try {
        const response = await fetch(`${form.dataset.checkUrl}?${query(form)}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: controller.signal,
        });
        const body = await response.json();
        if (!response.ok) {
          problem.textContent = body.error || "The check could not run.";
          problem.hidden = false;
          return;
        }
        problem.hidden = true;
        render(panel, body);
        showInline(form, body.checks, touched);
      } catch (error) {
        if (error.name !== "AbortError") {
          problem.textContent = "The check could not run; the goal is checked again when saved.";
          problem.hidden = false;
        }
      }
    };
    const schedule = (event) => {
      if (event?.target?.name) {
        touched.add(event.target.name);
      }
      showUnit(form, units);
      clearTimeout(timer);
      timer = setTimeout(check, DEBOUNCE_MS);
    };
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    showUnit(form, units);
    check();

    const addButton = form.querySelector("[data-add-milestone]");
    const template = form.querySelector("[data-milestone-template]");
    const rows = form.querySelector("[data-milestone-rows]");
    const total = form.elements.namedItem("milestones-TOTAL_FORMS");
    addButton?.addEventListener("click", () => {
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      rows.lastElementChild.querySelector("input")?.focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
