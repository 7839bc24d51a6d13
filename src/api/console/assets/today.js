// The Today page's live arrivals: each sighting sent by the server updates its person's row, or
// adds the row at the top for a first arrival. Names are set as text, never parsed as HTML.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var url = status && status.getAttribute("data-live");
  if (!url) {
    return;
  }
  var arrivals = document.getElementById("arrivals");
  var present = document.getElementById("present");

  function cell(kind, text) {
    var td = document.createElement("td");
    td.className = kind;
    td.textContent = text;
    return td;
  }

  function rowOf(body, attribute, value) {
    var rows = body.querySelectorAll("tr");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute(attribute) === value) {
        return rows[i];
      }
    }
    return null;
  }

  function arrive(s) {
    var row = rowOf(arrivals, "data-person", s.person_id);
    if (row) {
      row.querySelector(".last").textContent = s.time;
      return;
    }
    row = document.createElement("tr");
    row.setAttribute("data-person", s.person_id);
    var name = document.createElement("td");
    var link = document.createElement("a");
    link.href = "/console/people/" + encodeURIComponent(s.person_id);
    link.textContent = s.display_name;
    name.appendChild(link);
    row.appendChild(name);
    row.appendChild(cell("first", s.time));
    row.appendChild(cell("last", s.time));
    row.appendChild(cell("camera", s.camera_id));
    arrivals.insertBefore(row, arrivals.firstChild);
    present.textContent = String(Number(present.textContent) + 1);
    var nobody = document.getElementById("nobody");
    if (nobody) {
      nobody.parentNode.removeChild(nobody);
    }
  }

  function seenBy(s) {
    var row = rowOf(document.getElementById("cameras"), "data-camera", s.camera_id);
    if (row) {
      row.querySelector(".last").textContent = s.time;
      var events = row.querySelector(".events");
      events.textContent = String(Number(events.textContent) + 1);
    }
  }

  function cameraState(c) {
    var row = rowOf(document.getElementById("cameras"), "data-camera", c.camera_id);
    if (row) {
      var cell = row.querySelector(".state");
      cell.textContent = c.text;
      cell.setAttribute("data-state", c.state);
    }
  }

  var source = new EventSource(url);
  source.addEventListener("camera", function (event) {
    cameraState(JSON.parse(event.data));
  });
  source.addEventListener("ready", function () {
    status.textContent = "Live: arrivals appear as they happen.";
    status.setAttribute("data-state", "live");
  });
  source.addEventListener("sighting", function (event) {
    var s = JSON.parse(event.data);
    arrive(s);
    seenBy(s);
  });
  source.onerror = function () {
    status.textContent = "Live arrivals interrupted; reconnecting…";
    status.setAttribute("data-state", "reconnecting");
  };
})();
