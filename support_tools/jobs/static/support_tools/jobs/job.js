// The job page follows its job: it polls GET /api/v1/jobs/<id>?rows=false (session auth) to
// move the progress bar, and reloads itself once the job has finished, to show the result.
(function () {
  "use strict";
  var bar = document.getElementById("job-progress");
  if (!bar || bar.getAttribute("data-finished") === "true") {
    return;
  }
  var label = document.getElementById("job-progress-label");
  var status = document.getElementById("job-status");
  var url = bar.getAttribute("data-poll-url");
  var delay = 500;

  function show(job) {
    var total = job.progress.total;
    var done = job.progress.done;
    var percent = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 100;
    bar.setAttribute("max", String(Math.max(total, 1)));
    bar.setAttribute("value", String(done));
    bar.textContent = percent + "%";
    if (label) {
      label.textContent = done + " of " + total + " rows done (" + percent + "%)";
    }
    if (status) {
      status.textContent = job.status;
      status.className = "job-status job-status-" + job.status;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (job) {
          show(job);
          if (job.status === "done" || job.status === "failed") {
            window.location.reload();
            return;
          }
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        window.setTimeout(poll, delay * 4); // the server is away: try again, more slowly
      });
  }

  window.setTimeout(poll, delay);
})();
