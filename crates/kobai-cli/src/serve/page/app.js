// kobai playground: contour lines and −∇f arrows of a formula, and the paths
// of the book's optimizers from a clicked start. Everything numeric comes
// from the server's JSON API; this script only draws. The view lives in the
// URL, so a link reproduces it.
"use strict";

const OPTIMIZERS = [
  // name as the CLI spells it, label, colour, the book's learning rate for figure 6-8
  { name: "sgd", label: "SGD", color: "#1f77b4", lr: 0.95 },
  { name: "momentum", label: "Momentum", color: "#2ca02c", lr: 0.1 },
  { name: "nesterov", label: "Nesterov", color: "#17becf", lr: 0.1 },
  { name: "adagrad", label: "AdaGrad", color: "#d62728", lr: 1.5 },
  { name: "rmsprop", label: "RMSprop", color: "#9467bd", lr: 0.1 },
  { name: "adam", label: "Adam", color: "#ff7f0e", lr: 0.3 },
];
const MARGIN = 44;
const GRID = 81;

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");

const state = {
  f: "x0^2 + x1^2",
  x0: [-3, 3],
  x1: [-3, 3],
  start: [-2.5, 2],
  steps: 100,
  on: { sgd: true, momentum: true, adam: true },
  lr: Object.fromEntries(OPTIMIZERS.map((o) => [o.name, o.lr])),
};
let surface = null; // the last /api/surface answer
let paths = []; // [{optimizer, points: [{x, value, gradient_norm}]}]
let frame = 0;
let animation = null;

// ---------- the URL holds the view ----------

function readUrl() {
  const q = new URLSearchParams(location.search);
  if (q.has("f")) state.f = q.get("f");
  const pair = (text) => {
    const v = (text || "").split(",").map(Number);
    return v.length === 2 && v.every(Number.isFinite) ? v : null;
  };
  state.x0 = pair(q.get("x0")) || state.x0;
  state.x1 = pair(q.get("x1")) || state.x1;
  state.start = pair(q.get("start")) || state.start;
  const steps = Number(q.get("steps"));
  if (Number.isInteger(steps) && steps > 0) state.steps = steps;
  if (q.has("opt")) {
    state.on = {};
    for (const part of q.get("opt").split(",")) {
      const [name, lr] = part.split(":");
      if (OPTIMIZERS.some((o) => o.name === name)) {
        state.on[name] = true;
        if (Number.isFinite(Number(lr)) && Number(lr) > 0) state.lr[name] = Number(lr);
      }
    }
  }
}

function writeUrl() {
  const q = new URLSearchParams();
  q.set("f", state.f);
  q.set("x0", state.x0.join(","));
  q.set("x1", state.x1.join(","));
  q.set("start", state.start.map((v) => +v.toPrecision(6)).join(","));
  q.set("steps", String(state.steps));
  q.set("opt", OPTIMIZERS.filter((o) => state.on[o.name]).map((o) => `${o.name}:${state.lr[o.name]}`).join(","));
  history.replaceState(null, "", `?${q}`);
}

// ---------- controls ----------

function buildControls() {
  const box = $("optimizers");
  for (const o of OPTIMIZERS) {
    const row = document.createElement("div");
    row.className = "optimizer";
    row.innerHTML =
      `<input type="checkbox" id="on-${o.name}">` +
      `<label for="on-${o.name}"><span class="swatch" style="background:${o.color}"></span> ${o.label}</label>` +
      `<input type="number" id="lr-${o.name}" step="any" min="0" aria-label="${o.label} learning rate">`;
    box.appendChild(row);
  }
  syncControls();
  $("formula").addEventListener("change", () => { state.f = $("formula").value; refresh(); });
  $("x0range").addEventListener("change", () => { state.x0 = readPair("x0range", state.x0); refresh(); });
  $("x1range").addEventListener("change", () => { state.x1 = readPair("x1range", state.x1); refresh(); });
  $("steps").addEventListener("change", () => { state.steps = Math.max(1, Math.round(Number($("steps").value)) || 1); descend(); });
  for (const o of OPTIMIZERS) {
    $(`on-${o.name}`).addEventListener("change", (e) => { state.on[o.name] = e.target.checked; descend(); });
    $(`lr-${o.name}`).addEventListener("change", (e) => { state.lr[o.name] = Number(e.target.value); descend(); });
  }
  $("preset").addEventListener("change", () => {
    const value = $("preset").value;
    if (!value) return;
    const [f, x0, x1, start] = value.split("|");
    state.f = f;
    state.x0 = x0.split(",").map(Number);
    state.x1 = x1.split(",").map(Number);
    state.start = start.split(",").map(Number);
    syncControls();
    refresh();
  });
  $("run").addEventListener("click", descend);
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect();
    const px = ((e.clientX - r.left) * canvas.width) / r.width;
    const py = ((e.clientY - r.top) * canvas.height) / r.height;
    state.start = [fromX(px), fromY(py)];
    descend();
  });
}

function readPair(id, fallback) {
  const v = $(id).value.split(",").map(Number);
  return v.length === 2 && v.every(Number.isFinite) && v[0] < v[1] ? v : fallback;
}

function syncControls() {
  $("formula").value = state.f;
  $("x0range").value = state.x0.join(",");
  $("x1range").value = state.x1.join(",");
  $("steps").value = state.steps;
  for (const o of OPTIMIZERS) {
    $(`on-${o.name}`).checked = !!state.on[o.name];
    $(`lr-${o.name}`).value = state.lr[o.name];
  }
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(path, params) {
  const response = await fetch(`${path}?${new URLSearchParams(params)}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

// ---------- coordinates ----------

const toX = (x) => MARGIN + ((x - state.x0[0]) / (state.x0[1] - state.x0[0])) * (canvas.width - 2 * MARGIN);
const toY = (y) => canvas.height - MARGIN - ((y - state.x1[0]) / (state.x1[1] - state.x1[0])) * (canvas.height - 2 * MARGIN);
const fromX = (px) => state.x0[0] + ((px - MARGIN) / (canvas.width - 2 * MARGIN)) * (state.x0[1] - state.x0[0]);
const fromY = (py) => state.x1[0] + ((canvas.height - MARGIN - py) / (canvas.height - 2 * MARGIN)) * (state.x1[1] - state.x1[0]);

// ---------- drawing ----------

function draw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  drawAxes();
  if (surface) {
    drawContours();
    drawArrows();
  }
  drawPaths();
  drawStart();
}

function drawAxes() {
  ctx.strokeStyle = "#999";
  ctx.fillStyle = "#444";
  ctx.font = "12px system-ui, sans-serif";
  ctx.strokeRect(MARGIN, MARGIN, canvas.width - 2 * MARGIN, canvas.height - 2 * MARGIN);
  for (let i = 0; i <= 4; i++) {
    const x = state.x0[0] + ((state.x0[1] - state.x0[0]) * i) / 4;
    const y = state.x1[0] + ((state.x1[1] - state.x1[0]) * i) / 4;
    ctx.textAlign = "center";
    ctx.fillText(+x.toPrecision(4), toX(x), canvas.height - MARGIN + 16);
    ctx.textAlign = "right";
    ctx.fillText(+y.toPrecision(4), MARGIN - 6, toY(y) + 4);
  }
  ctx.textAlign = "center";
  ctx.fillText("x0", canvas.width / 2, canvas.height - 8);
  ctx.save();
  ctx.translate(14, canvas.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText("x1", 0, 0);
  ctx.restore();
}

/** Contour levels at quantiles of the finite values: even spacing where the function is. */
function levels(values) {
  const finite = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (finite.length < 2) return [];
  const out = [];
  for (let k = 1; k < 16; k++) {
    const q = finite[Math.floor((finite.length - 1) * (k / 16) ** 2)];
    if (!out.length || q > out[out.length - 1]) out.push(q);
  }
  return out;
}

/** Marching squares over the surface grid, one level at a time. */
function drawContours() {
  const { xs, ys, values, n } = surface;
  const at = (i, j) => values[j * n + i];
  ctx.strokeStyle = "rgba(60, 60, 160, 0.55)";
  ctx.lineWidth = 1;
  for (const level of levels(values)) {
    ctx.beginPath();
    for (let j = 0; j + 1 < n; j++) {
      for (let i = 0; i + 1 < n; i++) {
        const corners = [
          [xs[i], ys[j], at(i, j)],
          [xs[i + 1], ys[j], at(i + 1, j)],
          [xs[i + 1], ys[j + 1], at(i + 1, j + 1)],
          [xs[i], ys[j + 1], at(i, j + 1)],
        ];
        if (corners.some((c) => c[2] === null)) continue;
        const cuts = [];
        for (let e = 0; e < 4; e++) {
          const [ax, ay, av] = corners[e];
          const [bx, by, bv] = corners[(e + 1) % 4];
          if ((av < level) !== (bv < level)) {
            const t = (level - av) / (bv - av);
            cuts.push([ax + t * (bx - ax), ay + t * (by - ay)]);
          }
        }
        for (let c = 0; c + 1 < cuts.length; c += 2) {
          ctx.moveTo(toX(cuts[c][0]), toY(cuts[c][1]));
          ctx.lineTo(toX(cuts[c + 1][0]), toY(cuts[c + 1][1]));
        }
      }
    }
    ctx.stroke();
  }
}

/** Arrows of −∇f on every few grid points, all on one scale. */
function drawArrows() {
  const { xs, ys, gradients, n } = surface;
  const every = Math.max(1, Math.round(n / 17));
  let largest = 0;
  for (const g of gradients) if (g) largest = Math.max(largest, Math.hypot(g[0], g[1]));
  if (!(largest > 0)) return;
  const cell = ((canvas.width - 2 * MARGIN) / (n - 1)) * every * 0.85;
  ctx.strokeStyle = ctx.fillStyle = "rgba(90, 90, 90, 0.8)";
  for (let j = Math.floor(every / 2); j < n; j += every) {
    for (let i = Math.floor(every / 2); i < n; i += every) {
      const g = gradients[j * n + i];
      if (!g) continue;
      const length = Math.hypot(g[0], g[1]) / largest;
      if (length < 1e-3) continue;
      // Screen y grows downwards: −∇f has screen components (−g0, +g1).
      const dx = (-g[0] / Math.hypot(g[0], g[1])) * cell * Math.sqrt(length);
      const dy = (g[1] / Math.hypot(g[0], g[1])) * cell * Math.sqrt(length);
      const x = toX(xs[i]) - dx / 2;
      const y = toY(ys[j]) - dy / 2;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + dx, y + dy);
      ctx.stroke();
      const a = Math.atan2(dy, dx);
      ctx.beginPath();
      ctx.moveTo(x + dx, y + dy);
      ctx.lineTo(x + dx - 5 * Math.cos(a - 0.4), y + dy - 5 * Math.sin(a - 0.4));
      ctx.lineTo(x + dx - 5 * Math.cos(a + 0.4), y + dy - 5 * Math.sin(a + 0.4));
      ctx.fill();
    }
  }
}

function drawPaths() {
  ctx.save();
  ctx.beginPath();
  ctx.rect(MARGIN, MARGIN, canvas.width - 2 * MARGIN, canvas.height - 2 * MARGIN);
  ctx.clip();
  for (const path of paths) {
    const o = OPTIMIZERS.find((p) => p.name === path.optimizer);
    const shown = path.points.slice(0, Math.min(frame + 1, path.points.length));
    ctx.strokeStyle = ctx.fillStyle = o.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    shown.forEach((p, k) => (k ? ctx.lineTo(toX(p.x[0]), toY(p.x[1])) : ctx.moveTo(toX(p.x[0]), toY(p.x[1]))));
    ctx.stroke();
    const last = shown[shown.length - 1];
    if (last) {
      ctx.beginPath();
      ctx.arc(toX(last.x[0]), toY(last.x[1]), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  ctx.restore();
}

function drawStart() {
  ctx.fillStyle = "#000";
  ctx.beginPath();
  ctx.arc(toX(state.start[0]), toY(state.start[1]), 5, 0, 2 * Math.PI);
  ctx.fill();
  $("start").textContent = `(${state.start.map((v) => +v.toPrecision(4)).join(", ")})`;
}

function updateTable() {
  const body = $("table").querySelector("tbody");
  body.innerHTML = "";
  for (const path of paths) {
    const o = OPTIMIZERS.find((p) => p.name === path.optimizer);
    const p = path.points[Math.min(frame, path.points.length - 1)];
    const row = document.createElement("tr");
    const cells = [o.label, p.step, p.x[0], p.x[1], p.value, p.gradient_norm];
    row.innerHTML = cells
      .map((v, k) => `<td${k === 0 ? ` style="color:${o.color};text-align:left"` : ""}>${format(v)}</td>`)
      .join("");
    body.appendChild(row);
  }
}

function format(v) {
  if (typeof v !== "number") return v === null || v === undefined ? "—" : String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

// ---------- the error of a numerical derivative against its step ----------

const SWEEP_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

async function drawSweep() {
  const c = $("sweep");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  let answer;
  try {
    answer = await api("/api/hsweep", { f: state.f, at: state.start.join(",") });
  } catch (e) {
    g.fillStyle = "#b00020";
    g.font = "13px system-ui, sans-serif";
    g.fillText(e.message.slice(0, 90), 10, 24);
    return;
  }
  const m = { left: 56, right: 170, top: 16, bottom: 40 };
  const w = c.width - m.left - m.right;
  const h = c.height - m.top - m.bottom;
  const logs = answer.schemes.flatMap((s) => s.errors.filter((e) => e !== null).map(Math.log10));
  if (!logs.length) return;
  const lo = Math.floor(Math.min(...logs));
  const hi = Math.ceil(Math.max(...logs));
  const sx = (lh) => m.left + ((lh + 16) / 16) * w;
  const sy = (le) => m.top + ((hi - le) / Math.max(hi - lo, 1)) * h;
  g.strokeStyle = "#999";
  g.strokeRect(m.left, m.top, w, h);
  g.fillStyle = "#444";
  g.font = "12px system-ui, sans-serif";
  g.textAlign = "center";
  for (let d = -16; d <= 0; d += 4) g.fillText(`1e${d}`, sx(d), c.height - m.bottom + 16);
  g.fillText("step h", m.left + w / 2, c.height - 6);
  g.textAlign = "right";
  for (let d = lo; d <= hi; d += Math.max(1, Math.ceil((hi - lo) / 6))) g.fillText(`1e${d}`, m.left - 6, sy(d) + 4);
  g.setLineDash([6, 4]);
  g.strokeStyle = "#777";
  g.beginPath();
  g.moveTo(sx(-4), m.top);
  g.lineTo(sx(-4), m.top + h);
  g.stroke();
  g.setLineDash([]);
  answer.schemes.forEach((scheme, k) => {
    g.strokeStyle = g.fillStyle = SWEEP_COLORS[k % SWEEP_COLORS.length];
    g.lineWidth = 2;
    g.beginPath();
    let pen = false;
    scheme.errors.forEach((e, i) => {
      if (e === null) { pen = false; return; }
      const x = sx(Math.log10(answer.steps[i]));
      const y = sy(Math.log10(e));
      if (pen) g.lineTo(x, y); else g.moveTo(x, y);
      pen = true;
    });
    g.stroke();
    g.textAlign = "left";
    g.fillText(scheme.name, m.left + w + 10, m.top + 16 + 18 * k);
  });
  g.fillStyle = "#777";
  g.fillText("- - the book's h = 1e-4", m.left + w + 10, m.top + 16 + 18 * answer.schemes.length);
}

// ---------- the work ----------

async function refresh() {
  writeUrl();
  showError("");
  try {
    surface = await api("/api/surface", { f: state.f, x0: state.x0.join(","), x1: state.x1.join(","), n: GRID });
  } catch (e) {
    surface = null;
    paths = [];
    draw();
    updateTable();
    showError(e.message);
    return;
  }
  await descend();
}

async function descend() {
  writeUrl();
  drawSweep();
  if (animation) cancelAnimationFrame(animation);
  const chosen = OPTIMIZERS.filter((o) => state.on[o.name]);
  try {
    const answers = await Promise.all(
      chosen.map((o) =>
        api("/api/descend", {
          f: state.f,
          from: state.start.join(","),
          optimizer: o.name,
          lr: state.lr[o.name],
          steps: state.steps,
        }),
      ),
    );
    showError("");
    paths = answers.map((a, k) => ({ optimizer: chosen[k].name, points: pathOf(a) }));
  } catch (e) {
    paths = [];
    showError(e.message);
  }
  animate();
}

/** The answer's path (start to end), or just its two ends. */
function pathOf(answer) {
  if (Array.isArray(answer.path) && answer.path.length) return answer.path;
  return [
    { step: 0, x: answer.from, value: null, gradient_norm: null },
    { step: answer.steps, x: answer.x, value: answer.value, gradient_norm: null },
  ];
}

function animate() {
  const longest = Math.max(1, ...paths.map((p) => p.points.length));
  const perFrame = Math.max(1, Math.ceil(longest / 120)); // about two seconds
  frame = 0;
  const tick = () => {
    draw();
    updateTable();
    if (frame < longest - 1) {
      frame = Math.min(longest - 1, frame + perFrame);
      animation = requestAnimationFrame(tick);
    } else {
      animation = null;
      document.body.dataset.drawn = String(Date.now());
    }
  };
  tick();
}

readUrl();
buildControls();
refresh();
