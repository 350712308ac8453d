// The dashboard's charts, drawn with the vendored Chart.js (static/vendor/chartjs) from the JSON
// block the page carries (json_script "dashboard-data", built by dashboard/charts.py).
// Every bar links to the ledger list behind it, like the number in the table under the chart.
// No inline script or style: sizes are set through the CSSOM, which the CSP allows.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const Chart = window.Chart;

  Chart.defaults.font.family =
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif';
  Chart.defaults.animation = false; // charts print as they are drawn, and tests need no waiting
  Chart.defaults.maintainAspectRatio = false;

  // Bootstrap's colours, so the charts match the badges of the ledger.
  const colours = {
    open: "#6c757d",
    in_progress: "#0d6efd",
    submitted: "#ffc107",
    closed: "#198754",
    danger: "#dc3545",
    primary: "#0d6efd",
    secondary: "#6f42c1",
  };

  // Horizontal bar charts grow with their number of rows, so 60 units stay readable.
  function fitHeight(canvas, rows, perRow) {
    const box = canvas.parentElement;
    box.style.height = Math.max(160, rows * perRow + 70) + "px";
  }

  function linkTo(links) {
    return {
      onClick(event, elements) {
        if (elements.length && links[elements[0].index]) {
          window.location.assign(links[elements[0].index]);
        }
      },
      onHover(event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
    };
  }

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) {
      return null;
    }
    const chart = new Chart(canvas, config);
    canvas.dataset.rendered = "true"; // for the browser test: the chart exists
    return chart;
  }

  function horizontalBars(id, spec, colour, options) {
    const canvas = document.getElementById(id);
    if (!canvas || !spec.values.length) {
      return;
    }
    fitHeight(canvas, spec.values.length, 26);
    draw(id, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [{ label: spec.label, data: spec.values, backgroundColor: colour }],
      },
      options: Object.assign(
        {
          indexAxis: "y",
          interaction: { mode: "index", axis: "y", intersect: false },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                // The full name: the axis label may be cut short (dashboard/charts.py).
                title(items) {
                  return items.length && spec.titles ? spec.titles[items[0].dataIndex] : "";
                },
                afterLabel(context) {
                  const notes = spec.notes && spec.notes[context.dataIndex];
                  return notes || "";
                },
              },
            },
          },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        },
        linkTo(spec.links),
        options || {}
      ),
    });
  }

  // Items by status.
  const status = data.status;
  draw("chart-status", {
    type: "doughnut",
    data: {
      labels: status.labels,
      datasets: [
        {
          label: status.label,
          data: status.values,
          backgroundColor: status.keys.map((key) => colours[key]),
        },
      ],
    },
    options: Object.assign({ plugins: { legend: { position: "right" } } }, linkTo(status.links)),
  });

  horizontalBars("chart-closure", data.closure, colours.closed, {
    scales: { x: { beginAtZero: true, max: 100 } },
  });
  horizontalBars("chart-overdue", data.overdue, colours.danger);
  horizontalBars("chart-categories", data.categories, colours.secondary);

  // Each project's score beside its closure rate, both out of 100.
  const projects = data.projects;
  const projectCanvas = document.getElementById("chart-projects");
  if (projectCanvas && projects.labels.length) {
    fitHeight(projectCanvas, projects.labels.length, 40);
    draw("chart-projects", {
      type: "bar",
      data: {
        labels: projects.labels,
        datasets: [
          { label: projects.series[0], data: projects.scores, backgroundColor: colours.primary },
          { label: projects.series[1], data: projects.rates, backgroundColor: colours.closed },
        ],
      },
      options: Object.assign(
        {
          indexAxis: "y",
          interaction: { mode: "index", axis: "y", intersect: false },
          scales: { x: { beginAtZero: true, max: 100 } },
          plugins: {
            tooltip: {
              callbacks: {
                title(items) {
                  return items.length ? projects.titles[items[0].dataIndex] : "";
                },
              },
            },
          },
        },
        linkTo(projects.links)
      ),
    });
  }
})();
