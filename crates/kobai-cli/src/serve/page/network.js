// kobai playground, network page: a dataset in the plane, a network shaped on
// the page, trained on the server and drawn frame by frame — the decision
// regions, each hidden unit's map, the loss and accuracy curves. The setup
// lives in the URL, so a link reproduces it.
"use strict";

const FEATURES = ["x0", "x1", "x0^2", "x1^2", "x0*x1", "sin(x0)", "sin(x1)"];
const LABELS = { "x0": "x0", "x1": "x1", "x0^2": "x0²", "x1^2": "x1²", "x0*x1": "x0·x1", "sin(x0)": "sin x0", "sin(x1)": "sin x1" };
// Class colours: orange and blue as in TensorFlow Playground, then more.
const COLORS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189], [214, 39, 40], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
// The learning rates of the log-scale slider.
const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const MAX_URL_POINTS = 500; // custom points beyond this are not put in the link

const $ = (id) => document.getElementById(id);
const heat = $("heat");
const hctx = heat.getContext("2d");

const setup = {
  data: "spiral", points: 400, noise: 0.1, test: 0.5, seed: 1,
  features: ["x0", "x1"], hidden: [8, 8], activation: "tanh",
  optimizer: "sgd", lr: 0.03, batch: 10, l2: 0, dropout: 0,
};
let every = 1; // epochs per frame while training (not part of the network)
let custom = []; // [[x0, x1, label]] for "your own points"
let net = null; // the last POST /api/net answer
let frame = null; // the last frame
let curve = []; // [{epoch, trainLoss, testLoss, trainAcc, testAcc}]
let stream = null; // the EventSource while training
let making = null; // the pending reset, so clicks wait for it

// ---------- the URL holds the setup ----------

function readUrl() {
  const q = new URLSearchParams(location.search);
  const num = (key, ok) => {
    if (!q.has(key)) return;
    const v = Number(q.get(key));
    if (Number.isFinite(v) && ok(v)) setup[key] = v;
  };
  if (q.has("data")) setup.data = q.get("data");
  num("points", (v) => Number.isInteger(v) && v >= 2);
  num("noise", (v) => v >= 0 && v <= 1);
  num("test", (v) => v >= 0 && v <= 0.9);
  num("seed", (v) => Number.isInteger(v) && v >= 0);
  num("lr", (v) => v > 0);
  num("batch", (v) => Number.isInteger(v) && v >= 1);
  num("l2", (v) => v >= 0);
  num("dropout", (v) => v >= 0 && v < 1);
  if (q.has("features")) setup.features = q.get("features").split(",").filter((f) => FEATURES.includes(f));
  if (q.has("hidden")) setup.hidden = parseHidden(q.get("hidden")) || setup.hidden;
  if (q.has("activation")) setup.activation = q.get("activation");
  if (q.has("optimizer")) setup.optimizer = q.get("optimizer");
  if (q.has("custom")) custom = parsePoints(q.get("custom").replaceAll(";", "\n")).points;
  if ([1, 5, 25, 100].includes(Number(q.get("every")))) every = Number(q.get("every"));
  if (q.has("showtest")) $("show-test").checked = q.get("showtest") !== "0";
}

function writeUrl() {
  const q = new URLSearchParams();
  for (const key of ["data", "points", "noise", "test", "seed", "activation", "optimizer", "lr", "batch", "l2", "dropout"]) {
    q.set(key, setup[key]);
  }
  q.set("features", setup.features.join(","));
  q.set("hidden", setup.hidden.join(","));
  if (setup.data === "custom" && custom.length <= MAX_URL_POINTS) {
    q.set("custom", custom.map((p) => `${round(p[0])},${round(p[1])},${p[2]}`).join(";"));
  }
  if (every !== 1) q.set("every", every);
  if (!$("show-test").checked) q.set("showtest", "0");
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

const round = (v) => Math.round(v * 1000) / 1000;

function parseHidden(text) {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const sizes = trimmed.split(",").map((s) => Number(s.trim()));
  return sizes.every((n) => Number.isInteger(n) && n > 0) ? sizes : null;
}

/** Lines of `x0,x1,label`; a header line and blank lines are skipped. */
function parsePoints(text) {
  const points = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const cells = line.split(/[,;\t ]+/).map(Number);
    if (cells.length !== 3 || !cells.every(Number.isFinite) || !Number.isInteger(cells[2]) || cells[2] < 0) {
      if (i === 0 && points.length === 0) continue; // a header
      return { points, error: `line ${i + 1} is "${line.slice(0, 60)}"; each line must be x0,x1,label with a label 0, 1, 2…` };
    }
    points.push(cells);
  }
  return { points, error: null };
}

// ---------- controls ----------

function buildControls() {
  for (const name of FEATURES) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" id="f-${name}"> ${LABELS[name]}`;
    label.querySelector("input").addEventListener("change", () => changed());
    $("features").append(label);
  }
  for (const id of ["data", "points", "noise", "test", "seed", "hidden", "activation", "optimizer", "lr", "batch", "l2", "dropout"]) {
    $(id).addEventListener("change", () => changed());
  }
  for (const id of ["noise", "test", "lr"]) $(id).addEventListener("input", showValues);
  $("regenerate").addEventListener("click", () => { $("seed").value = Number($("seed").value) + 1; changed(); });
  $("start").addEventListener("click", () => (stream ? pause() : start()));
  $("step").addEventListener("click", oneEpoch);
  $("reset").addEventListener("click", () => reset());
  $("show-test").addEventListener("change", () => { writeUrl(); draw(); });
  $("every").addEventListener("change", () => {
    every = Number($("every").value);
    writeUrl();
    if (stream) { pause(); start(); }
  });
  $("clear").addEventListener("click", () => { custom = []; reset(); });
  $("use-csv").addEventListener("click", () => useCsv($("csv").value));
  $("csv-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) useCsv(await file.text());
  });
  heat.addEventListener("click", clickPoint);
}

function syncControls() {
  for (const key of ["data", "points", "noise", "test", "seed", "activation", "optimizer", "batch", "l2", "dropout"]) {
    $(key).value = setup[key];
  }
  $("lr").value = nearestRate(setup.lr);
  setup.lr = RATES[$("lr").value];
  $("every").value = every;
  $("hidden").value = setup.hidden.join(",");
  for (const name of FEATURES) $(`f-${name}`).checked = setup.features.includes(name);
  showValues();
}

function showValues() {
  $("noise-shown").textContent = Number($("noise").value).toFixed(2);
  $("test-shown").textContent = Number($("test").value).toFixed(2);
  $("lr-shown").textContent = lrOf($("lr").value);
  $("custom-tools").hidden = $("data").value !== "custom";
}

/** The learning rate at slider position `v`. */
const lrOf = (v) => RATES[Number(v)];

/** The slider position of the rate nearest `lr` on a log scale. */
function nearestRate(lr) {
  let best = 0;
  RATES.forEach((r, i) => {
    if (Math.abs(Math.log(r / lr)) < Math.abs(Math.log(RATES[best] / lr))) best = i;
  });
  return best;
}

function readControls() {
  setup.data = $("data").value;
  for (const key of ["points", "noise", "test", "seed", "batch", "l2", "dropout"]) setup[key] = Number($(key).value);
  setup.lr = lrOf($("lr").value);
  setup.activation = $("activation").value;
  setup.optimizer = $("optimizer").value;
  setup.features = FEATURES.filter((name) => $(`f-${name}`).checked);
  const hidden = parseHidden($("hidden").value);
  if (hidden === null) return "hidden layers: write sizes separated by commas, like 8,8 (empty for none)";
  setup.hidden = hidden;
  return null;
}

function changed() {
  showValues();
  const problem = readControls();
  if (problem) {
    showError(problem);
    return;
  }
  reset();
}

function useCsv(text) {
  const { points, error } = parsePoints(text);
  if (!error && points.length === 0) {
    showError("CSV: no points found; each line must be x0,x1,label");
    return;
  }
  if (error) {
    showError(`CSV: ${error}`);
    return;
  }
  custom = points;
  setup.data = "custom";
  $("data").value = "custom";
  showValues();
  reset();
}

/** Adds a point of the chosen class where the plot was clicked (shift: removes the nearest). */
function clickPoint(event) {
  if (setup.data !== "custom") return;
  const rect = heat.getBoundingClientRect();
  const px = ((event.clientX - rect.left) / rect.width) * heat.width;
  const py = ((event.clientY - rect.top) / rect.height) * heat.height;
  const [a, b, c, d] = domain();
  const x0 = a + (px / heat.width) * (b - a);
  const x1 = d - (py / heat.height) * (d - c);
  if (event.shiftKey) {
    let best = -1;
    let bestDistance = Infinity;
    custom.forEach((p, i) => {
      const distance = Math.hypot(p[0] - x0, p[1] - x1);
      if (distance < bestDistance) [best, bestDistance] = [i, distance];
    });
    if (best >= 0) custom.splice(best, 1);
  } else {
    custom.push([round(x0), round(x1), Number($("class").value)]);
  }
  reset();
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// ---------- talking to the server ----------

function body() {
  const b = { ...setup };
  if (setup.data === "custom") {
    b.custom = custom;
    delete b.points;
    delete b.noise;
  }
  return JSON.stringify(b);
}

async function call(method, path, payload) {
  const response = await fetch(path, { method, headers: { "content-type": "application/json" }, body: payload });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `${response.status}`);
  return answer;
}

/** Forgets the network and makes a new one from the setup. */
function reset() {
  stopStream();
  document.body.dataset.state = "making";
  writeUrl();
  const old = net;
  making = (async () => {
    if (old) fetch(`/api/net/${old.id}`, { method: "DELETE" }).catch(() => {});
    try {
      net = await call("POST", "/api/net", body());
      showError("");
      curve = [];
      showFrame(net.frame);
      $("download").href = `/api/net/${net.id}/weights.npz`;
      $("about").textContent = `${net.train.length} training and ${net.test.length} test points, ` +
        `${net.classes} classes, batch ${net.batch}, ${net.parameters} parameters: ${net.architecture}`;
    } catch (e) {
      net = null;
      frame = null;
      showError(e.message);
      draw();
    }
    document.body.dataset.state = net ? "ready" : "error";
  })();
  return making;
}

async function start() {
  await making;
  if (!net || stream) return;
  if (frame && frame.finished) {
    showError(frame.diverged || "this network has finished training; press reset");
    return;
  }
  stream = new EventSource(`/api/net/${net.id}/train?every=${every}`);
  $("start").textContent = "pause";
  document.body.dataset.state = "training";
  stream.addEventListener("frame", (e) => showFrame(JSON.parse(e.data)));
  stream.addEventListener("end", (e) => {
    const { reason } = JSON.parse(e.data);
    pause();
    if (frame && frame.diverged) showError(frame.diverged);
    else if (!reason.startsWith("another run")) $("about").textContent = reason;
  });
  stream.onerror = () => {
    if (stream && stream.readyState === EventSource.CLOSED) {
      pause();
      showError("the server closed the training stream; press start to go on, or reset");
    }
  };
}

/** Closes the stream, if there is one (the server notices and stops); whether there was. */
function stopStream() {
  if (!stream) return false;
  stream.close();
  stream = null;
  $("start").textContent = "start";
  return true;
}

/** Stops the stream; the server answers with the frame where training stopped. */
function pause() {
  if (!stopStream()) return;
  const paused = net;
  making = (async () => {
    try {
      const f = await call("POST", `/api/net/${paused.id}/pause`);
      if (net === paused) showFrame(f);
    } catch (e) {
      if (net === paused) showError(e.message);
    }
    if (net === paused && !stream) document.body.dataset.state = "paused";
  })();
}

async function oneEpoch() {
  await making;
  if (stream) {
    pause();
    await making;
  }
  if (!net) return;
  try {
    showFrame(await call("POST", `/api/net/${net.id}/step`));
  } catch (e) {
    showError(e.message);
  }
}

// ---------- drawing ----------

function showFrame(f) {
  frame = f;
  const last = curve[curve.length - 1];
  if (!last || last.epoch !== f.epoch) {
    curve.push({
      epoch: f.epoch,
      trainLoss: f.train.loss, trainAcc: f.train.accuracy,
      testLoss: f.test ? f.test.loss : null, testAcc: f.test ? f.test.accuracy : null,
    });
    if (curve.length > 4000) curve = curve.filter((_, i) => i % 2 === 0 || i === curve.length - 1);
  }
  const show = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  $("epoch").textContent = f.epoch;
  $("train-loss").textContent = show(f.train.loss, 4);
  $("train-acc").textContent = show(f.train.accuracy, 3);
  $("test-loss").textContent = f.test ? show(f.test.loss, 4) : "–";
  $("test-acc").textContent = f.test ? show(f.test.accuracy, 3) : "–";
  if (f.diverged) {
    pause();
    showError(f.diverged);
  }
  draw();
  drawUnits();
  document.body.dataset.epoch = f.epoch;
}

/** The class colour faded toward white by (1 − strength). */
function tint(k, strength) {
  const c = COLORS[k % COLORS.length];
  return c.map((v) => Math.round(255 + (v - 255) * strength));
}

/** Where the plot is: the network's domain, or the default square before there is one. */
const domain = () => (net ? net.domain : [-6, 6, -6, 6]);

function draw() {
  hctx.fillStyle = "#fff";
  hctx.fillRect(0, 0, heat.width, heat.height);
  if (net && frame && frame.heat) {
    const { side, class: cls, confidence } = frame.heat;
    const image = new ImageData(side, side);
    const chance = 1 / net.classes;
    for (let j = 0; j < side; j++) {
      for (let i = 0; i < side; i++) {
        const at = j * side + i; // x1 rises with j; the image's rows go down
        const strength = Math.max(0, (confidence[at] / 100 - chance) / (1 - chance)) * 0.75;
        const [r, g, b] = tint(cls[at], strength);
        const o = ((side - 1 - j) * side + i) * 4;
        image.data.set([r, g, b, 255], o);
      }
    }
    const small = document.createElement("canvas");
    small.width = small.height = side;
    small.getContext("2d").putImageData(image, 0, 0);
    hctx.imageSmoothingEnabled = true;
    hctx.drawImage(small, 0, 0, heat.width, heat.height);
  }
  const [a, b, c, d] = domain();
  const toPx = (p) => [((p[0] - a) / (b - a)) * heat.width, ((d - p[1]) / (d - c)) * heat.height];
  const dot = (p, ring) => {
    const [x, y] = toPx(p);
    const [r, g, bl] = COLORS[p[2] % COLORS.length];
    hctx.beginPath();
    hctx.arc(x, y, 3.5, 0, 2 * Math.PI);
    hctx.fillStyle = `rgb(${r},${g},${bl})`;
    hctx.fill();
    hctx.lineWidth = ring ? 1.5 : 1;
    hctx.strokeStyle = ring ? "#000" : "#fff";
    hctx.stroke();
  };
  if (net) {
    for (const p of net.train) dot(p, false);
    if ($("show-test").checked) for (const p of net.test) dot(p, true);
  } else if (setup.data === "custom") {
    for (const p of custom) dot(p, false); // not yet a network: too few points
  }
  hctx.fillStyle = "#333";
  hctx.font = "12px system-ui";
  hctx.fillText(`x0 from ${round(a)} to ${round(b)}, x1 from ${round(c)} to ${round(d)}`, 6, heat.height - 6);
  drawCurves();
}

function drawCurves() {
  const canvas = $("curves");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const half = canvas.width / 2;
  const panel = (x0, title, keys, top) => {
    const [w, h, m] = [half - 20, canvas.height - 40, 30];
    ctx.strokeStyle = "#ccc";
    ctx.strokeRect(x0 + m, 20, w - m, h);
    ctx.fillStyle = "#333";
    ctx.font = "12px system-ui";
    ctx.fillText(title, x0 + m, 14);
    ctx.fillText(top.toPrecision(2), x0, 28);
    ctx.fillText("0", x0 + m - 10, 20 + h);
    const epochs = Math.max(1, curve[curve.length - 1]?.epoch || 1);
    keys.forEach(([key, color, dash]) => {
      ctx.beginPath();
      ctx.strokeStyle = color;
      ctx.setLineDash(dash ? [4, 3] : []);
      let moved = false;
      for (const point of curve) {
        const v = point[key];
        if (v === null || v === undefined) continue;
        const x = x0 + m + (point.epoch / epochs) * (w - m);
        const y = 20 + h - (Math.min(v, top) / top) * h;
        if (moved) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        moved = true;
      }
      ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.fillStyle = "#333";
    ctx.fillText(`epoch ${curve[curve.length - 1]?.epoch || 0}`, x0 + w - 60, canvas.height - 4);
  };
  const losses = curve.flatMap((p) => [p.trainLoss, p.testLoss]).filter((v) => v !== null && Number.isFinite(v));
  panel(0, "loss (train —, test - -)", [["trainLoss", "#333", false], ["testLoss", "#d62728", true]], Math.max(1e-3, ...losses.slice(0, 50)));
  panel(half, "accuracy (train —, test - -)", [["trainAcc", "#333", false], ["testAcc", "#d62728", true]], 1);
}

function drawUnits() {
  const box = $("units");
  const maps = (frame && frame.units) || [];
  const key = maps.map((m) => `${m.layer}.${m.unit}`).join(" ");
  if (box.dataset.key !== key) {
    box.replaceChildren();
    let row = null;
    let layer = null;
    for (const m of maps) {
      if (m.layer !== layer) {
        layer = m.layer;
        row = document.createElement("div");
        row.className = "unit-row";
        const title = document.createElement("span");
        title.className = "unit-layer";
        title.textContent = m.units > maps.filter((n) => n.layer === layer).length
          ? `${layer} (first ${maps.filter((n) => n.layer === layer).length} of ${m.units})` : layer;
        row.append(title);
        box.append(row);
      }
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = m.side;
      canvas.className = "unit";
      row.append(canvas);
    }
    box.dataset.key = key;
  }
  const canvases = box.querySelectorAll("canvas");
  maps.forEach((m, n) => {
    const canvas = canvases[n];
    canvas.title = `${m.layer}, unit ${m.unit + 1}: largest |output| ${m.scale === null ? "not finite" : Number(m.scale).toPrecision(3)}`;
    const image = new ImageData(m.side, m.side);
    for (let j = 0; j < m.side; j++) {
      for (let i = 0; i < m.side; i++) {
        const v = m.values[j * m.side + i] / 100;
        const [r, g, b] = tint(v < 0 ? 0 : 1, Math.abs(v) * 0.9);
        image.data.set([r, g, b, 255], ((m.side - 1 - j) * m.side + i) * 4);
      }
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
  });
}

// ---------- start ----------

readUrl();
buildControls();
syncControls();
reset();
