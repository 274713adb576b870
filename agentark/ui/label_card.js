// The labeling card in the browser: the queue's next steps are held here, a key shows the next one at once, and
// labels go back to the server in the background. Every label (and correction) is put in localStorage before the
// card moves on and stays there until the server acknowledges it, so closing the tab, losing the connection or a
// server restart loses nothing shown as labelled: unacknowledged items are sent again (ids make that idempotent).
const PENDING_KEY = "agentark.labelCard.pending";
// Every batch costs the page a Streamlit rerun, whose drawing holds the browser's main thread (and so the next
// key) for tens of milliseconds, hundreds on a loaded machine: send when the person pauses, or once the oldest
// unsent label has waited long enough, so a burst of keys is one batch and labels still reach the store in time.
const SEND_IDLE_MS = 300;
const SEND_WITHIN_MS = 800;
const RETRY_MS = 2000;       // a batch unacknowledged this long is sent again
const MAX_BATCH = 200;
const REFILL_AHEAD = 30;     // ask for more steps when fewer than this many are loaded ahead
const VALUES = { "1": "+1 good", "0": "0 neutral", "-1": "-1 wrong" };

function loadPending() {
  try {
    const items = JSON.parse(window.localStorage.getItem(PENDING_KEY) || "[]");
    return Array.isArray(items) ? items : [];
  } catch (e) {
    return [];
  }
}

function state() {
  if (!window.__agentarkLabelCard) {
    window.__agentarkLabelCard = {
      queue: null, total: 0, pos: 0, cards: new Map(), messages: new Map(), pending: loadPending(),
      inflight: null, lastAsk: null, reopen: false, reopenAsks: new Set(), local: new Map(), acked: new Set(),
      annotator: "", root: null,
      setTrigger: null, waiting: null, editing: false, error: null, timings: [], ackTimings: [],
      keyAt: new Map(), sends: 0, receiveMs: [], lastKey: 0,
    };
    window.addEventListener("keydown", onKey, true);
    window.setInterval(tick, 100);
  }
  return window.__agentarkLabelCard;
}

function hex(n) {
  const bytes = new Uint8Array(n);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function savePending(S) {
  window.localStorage.setItem(PENDING_KEY, JSON.stringify(S.pending));
}

function $(S, sel) {
  return S.root.querySelector(sel);
}

// -- sending ----------------------------------------------------------------------------------------------
function loadedAhead(S) {
  let n = 0;
  while (S.cards.has(S.pos + n + 1)) n += 1;
  return n;
}

function needSteps(S) {
  if (S.queue === null || S.total === 0) return false;
  if (!S.cards.has(S.pos)) return true;
  return loadedAhead(S) < REFILL_AHEAD && S.pos + loadedAhead(S) + 1 < S.total;
}

function send(S) {
  if (!S.setTrigger) return;
  const id = hex(6);
  // A queue opened before this page's unsent labels were stored still puts their steps first: while the
  // person has not moved, the server opens it again once they are stored (asked with the batch holding the last
  // of them, and again until a new queue arrives).
  const reopen = S.reopen && S.pos === 0 && S.pending.length <= MAX_BATCH;
  S.inflight = { id, at: performance.now(), reopen };
  if (reopen) S.reopenAsks.add(id);
  S.lastAsk = { pos: S.pos, at: performance.now() };
  S.sends += 1;
  S.setTrigger("sync", { id, queue: S.queue, pos: S.pos, reopen, full: !S.cards.has(S.pos),
                         items: S.pending.slice(0, MAX_BATCH) });
}

function tick() {
  const S = state();
  if (!S.root || !S.root.isConnected) return;
  const now = performance.now();
  if (S.inflight && now - S.inflight.at < RETRY_MS) return;
  const oldest = S.pending.length ? S.keyAt.get(S.pending[0].id) : undefined;
  const due = S.pending.length && (S.inflight || oldest === undefined || now - oldest >= SEND_WITHIN_MS
                                   || now - S.lastKey >= SEND_IDLE_MS);
  // Steps are asked for again only after a move or a retry interval: a server that cannot give them is not spun.
  const ask = (needSteps(S) || (S.reopen && S.pos === 0))
    && (!S.lastAsk || S.lastAsk.pos !== S.pos || now - S.lastAsk.at >= RETRY_MS);
  if (due || ask) send(S);
  status(S);
}

// -- giving labels ----------------------------------------------------------------------------------------
function push(S, item, t0) {
  S.lastKey = performance.now();
  S.pending.push(item);
  savePending(S);   // before the card moves on: what is shown as labelled survives a closed tab
  S.keyAt.set(item.id, t0);
  if (!S.local.has(item.step_id)) S.local.set(item.step_id, []);
  S.local.get(item.step_id).push(item);
}

function give(S, value, flag, t0) {
  const card = S.cards.get(S.pos);
  if (!card) return;
  if (!S.annotator) {
    warn(S, "Enter your name as Annotator in the sidebar before labeling.");
    return;
  }
  const noteBox = $(S, ".lc-note");
  const note = noteBox.value.trim() || null;
  noteBox.value = "";
  push(S, { id: "h:" + hex(10), kind: "label", step_id: card.step_id, value, flag, note, annotator: S.annotator },
       t0);
  if (flag) render(S, t0);
  else move(S, 1, t0);
}

// The first automatic suggestion (negatives come first) given as this person's label, in one key.
function accept(S, t0) {
  const card = S.cards.get(S.pos);
  const first = card && (card.suggestions || [])[0];
  if (first) give(S, first.value, false, t0);
}

function drawSuggestions(S, card) {
  const list = card.suggestions || [];
  const box = $(S, ".lc-suggest");
  box.hidden = list.length === 0;
  $(S, ".lc-accept").hidden = list.length === 0;
  box.textContent = list.map((x) => `Suggested ${VALUES[String(x.value)] || x.value} by ${x.source}` +
                                    (x.reason ? `: ${x.reason}` : "")).join(" · ");
}

function move(S, delta, t0) {
  const target = Math.min(Math.max(S.pos + delta, 0), Math.max(S.total - 1, 0));
  if (target !== 0) S.reopen = false;  // the person moved on: the queue is theirs as it is
  S.pos = target;
  S.editing = false;
  render(S, t0);
  if (needSteps(S) && !S.inflight) send(S);
}

function saveCorrection(S, t0) {
  const card = S.cards.get(S.pos);
  const text = $(S, ".lc-fix").value.trim();
  if (!card || !text) {
    warn(S, "Write the corrected step first.");
    return;
  }
  if (!S.annotator) {
    warn(S, "Enter your name as Annotator in the sidebar before correcting.");
    return;
  }
  const rest = $(S, ".lc-rest").value.trim() || null;
  push(S, { id: "c:" + hex(10), kind: "correction", step_id: card.step_id, text, rest, annotator: S.annotator }, t0);
  S.editing = false;
  render(S, t0);
}

function openEditor(S) {
  const card = S.cards.get(S.pos);
  if (!card || !markedWrong(S, card)) return;
  S.editing = true;
  render(S, null);
  const fix = $(S, ".lc-fix");
  fix.value = card.text;
  $(S, ".lc-rest").value = "";
  fix.focus();
}

function act(S, what, t0) {
  if (what === "good") give(S, 1, false, t0);
  else if (what === "neutral") give(S, 0, false, t0);
  else if (what === "wrong") give(S, -1, false, t0);
  else if (what === "flag") give(S, null, true, t0);
  else if (what === "accept") accept(S, t0);
  else if (what === "next") move(S, 1, t0);
  else if (what === "prev") move(S, -1, t0);
  else if (what === "correct") openEditor(S);
  else if (what === "save-correction") saveCorrection(S, t0);
  else if (what === "cancel-correction") { S.editing = false; render(S, null); }
}

const KEYS = { g: "good", n: "neutral", b: "wrong", f: "flag", a: "accept", j: "next", ArrowRight: "next", k: "prev",
               ArrowLeft: "prev", c: "correct" };

function onKey(e) {
  const S = state();
  // Keys belong to the card only while it is on the page (the Label tab is open; other tabs do not draw it).
  // No layout query here: one would wait for the layout of whatever Streamlit just drew.
  if (!S.root || !S.root.isConnected) return;
  const target = e.composedPath()[0];
  const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
  if (typing) {
    const inEditor = S.root.contains(target) && target.closest && target.closest(".lc-editor");
    if (inEditor && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      act(S, "save-correction", e.timeStamp);
    } else if (inEditor && e.key === "Escape") {
      act(S, "cancel-correction", e.timeStamp);
    }
    return;
  }
  if (e.ctrlKey || e.altKey || e.metaKey || !KEYS[e.key]) return;
  e.preventDefault();
  e.stopPropagation();
  act(S, KEYS[e.key], e.timeStamp);
}

// -- drawing ----------------------------------------------------------------------------------------------
function warn(S, text, isError) {
  const box = $(S, ".lc-warning");
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("lc-error", Boolean(isError));
}

function status(S) {
  if (!S.root) return;
  const n = S.pending.length;
  // Until the queue is opened afresh, its first steps may be the ones just saved: say so rather than "saved".
  const text = n ? `${n} label${n === 1 ? "" : "s"} saving…`
    : (S.reopen && S.pos === 0 && S.queue !== null ? "Labels saved; opening the queue afresh…" : "Every label is saved.");
  const el = $(S, ".lc-status");
  if (el.textContent !== text) el.textContent = text;
}

function humanValues(S, card) {
  const rows = (card.history || []).filter((h) => h.source === "human" && h.value !== null);
  const mine = (S.local.get(card.step_id) || []).filter((i) => i.kind === "label" && i.value !== null);
  return rows.map((h) => h.value).concat(mine.map((i) => i.value));
}

function markedWrong(S, card) {
  const values = humanValues(S, card);
  return values.length > 0 && values[values.length - 1] === -1;
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
}

function drawHistory(S, card) {
  const body = $(S, ".lc-history tbody");
  const rows = [];
  const known = new Set();
  for (const h of card.history || []) {
    known.add(h.id);
    rows.push(h);
  }
  for (const item of S.local.get(card.step_id) || []) {
    if (known.has(item.id)) continue;
    const saved = S.acked.has(item.id);
    rows.push({ id: item.id, when: saved ? "just now" : "saving…", source: "human", annotator: item.annotator,
                value: item.kind === "label" ? item.value : null, flag: Boolean(item.flag), note: item.note,
                correction: item.kind === "correction" ? item.text + (item.rest ? "\n…" + item.rest : "") : null,
                pending: !saved });
  }
  const frag = document.createDocumentFragment();
  for (const h of rows) {
    const tr = document.createElement("tr");
    if (h.pending) tr.className = "lc-pending";
    cell(tr, h.when);
    cell(tr, h.correction ? h.source + " correction" : h.source);
    cell(tr, h.annotator);
    cell(tr, h.value === null || h.value === undefined ? "" : (VALUES[String(h.value)] || h.value));
    cell(tr, h.flag ? "unsure" : "");
    cell(tr, h.correction ? "→ " + h.correction : h.note, h.correction ? "lc-fixed" : "");
    frag.appendChild(tr);
  }
  body.replaceChildren(frag);
}

function render(S, t0) {
  const card = S.cards.get(S.pos);
  const head = $(S, ".lc-pos");
  if (S.queue !== null && S.total === 0) {
    head.textContent = "No steps to label yet: segment a run on the Prepare tab (or `python -m agentark segment`).";
    return;
  }
  if (!card) {
    head.textContent = S.queue === null ? "Loading the queue…" : `Loading step ${S.pos + 1} of ${S.total}…`;
    if (t0 !== null && t0 !== undefined) S.waiting = { pos: S.pos, t0 };
    return;
  }
  const msg = S.messages.get(card.message_id) || {};
  head.textContent = `Step ${S.pos + 1} of ${S.total}`;
  $(S, ".lc-where").textContent = `· run ${card.run} · ${card.agent}, round ${card.round}, step ${card.idx + 1}`;
  $(S, ".lc-question").textContent = msg.question || "";
  $(S, ".lc-reference").textContent = msg.reference_answer ?? "";
  $(S, ".lc-answer").textContent = msg.answer ?? "";
  const verdict = $(S, ".lc-verdict");
  verdict.textContent = msg.is_correct === null || msg.is_correct === undefined ? "" : (msg.is_correct ? "✔" : "✘");
  verdict.className = "lc-verdict " + (msg.is_correct ? "lc-good" : "lc-bad");
  const content = msg.content || "";
  $(S, ".lc-before").textContent = content.slice(0, card.char_start);
  $(S, ".lc-step").textContent = content.slice(card.char_start, card.char_end);
  $(S, ".lc-after").textContent = content.slice(card.char_end);
  $(S, ".lc-correct-row").hidden = S.editing || !markedWrong(S, card);
  $(S, ".lc-editor").hidden = !S.editing;
  if (S.error) warn(S, S.error, true);
  else if (!S.annotator) warn(S, "Enter your name as Annotator in the sidebar before labeling.");
  else warn(S, "");
  drawSuggestions(S, card);
  drawHistory(S, card);
  status(S);
  if (t0 !== null && t0 !== undefined) painted(S, t0);
  if (S.waiting && S.waiting.pos === S.pos) {
    painted(S, S.waiting.t0);
    S.waiting = null;
  }
}

// Key to next step: from the key event to the frame that shows the new card (after the next paint).
function painted(S, t0) {
  requestAnimationFrame(() => setTimeout(() => S.timings.push(performance.now() - t0), 0));
}

// -- what the server sends --------------------------------------------------------------------------------
function receive(S, data) {
  for (const id of data.acked || []) {
    if (S.acked.has(id)) continue;
    S.acked.add(id);
    const t = S.keyAt.get(id);
    if (t !== undefined) {
      S.ackTimings.push(performance.now() - t);
      S.keyAt.delete(id);
    }
  }
  const rejected = data.rejected || {};
  const before = S.pending.length;
  S.pending = S.pending.filter((i) => !S.acked.has(i.id) && !(i.id in rejected));
  if (S.pending.length !== before) savePending(S);
  const reasons = Object.values(rejected);
  S.error = data.error || (reasons.length ? "Not stored: " + reasons[0] : null);
  if (S.inflight && data.synced === S.inflight.id) S.inflight = null;
  S.annotator = data.annotator || "";
  if (data.queue !== S.queue) {
    // A new queue (opened, reloaded, or a new server session): its positions mean other steps.
    // Only the server's answer to a reopen request (it names the request) ends it: any other new queue (a new
    // page, a rerun, a new server session) may have been opened before those labels were stored, and may put the
    // steps of labels still unsent first.
    const answered = Boolean(data.reopened) && S.reopenAsks.delete(data.reopened);
    S.reopen = answered ? false : (S.reopen || S.pending.length > 0);
    S.queue = data.queue;
    S.cards = new Map();
    S.messages = new Map();
    S.pos = data.pos || 0;
    S.inflight = null;
  }
  S.total = data.total || 0;
  for (const [id, msg] of Object.entries(data.messages || {})) S.messages.set(id, msg);
  for (const card of data.cards || []) S.cards.set(card.pos, card);
  // Keep memory bounded: drop cards far behind the position.
  if (S.cards.size > 2000) {
    for (const pos of Array.from(S.cards.keys())) if (pos < S.pos - 200) S.cards.delete(pos);
  }
}

export default function (component) {
  const started = performance.now();
  const S = state();
  const { data, parentElement, setTriggerValue } = component;
  S.root = parentElement.querySelector(".lc");
  S.setTrigger = setTriggerValue;
  const clicks = (e) => {
    const button = e.target.closest("button[data-act]");
    if (button) act(S, button.dataset.act, e.timeStamp);
  };
  S.root.addEventListener("click", clicks);
  receive(S, data || {});
  render(S, null);
  if (!S.inflight && ((S.pending.length && S.keyAt.get(S.pending[0].id) === undefined)
                      || (needSteps(S) && (!S.lastAsk || S.lastAsk.pos !== S.pos)))) send(S);
  S.receiveMs.push(performance.now() - started);
  return () => S.root && S.root.removeEventListener("click", clicks);
}
