// DOM helpers shared by the player and host pages. User text only ever goes in through
// textContent (never innerHTML), so a name like "<img onerror=...>" stays text.

export const $ = (id) => document.getElementById(id);

/** el("li", {className: "row", "aria-current": "true"}, "text", childNode, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(id, text) {
  const node = $(id);
  if (node.textContent !== String(text)) node.textContent = String(text);
}

/** Show exactly one of the page's views (sections with class "view"). */
export function showView(id) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
}

export function show(id, visible = true) {
  $(id).hidden = !visible;
}

// Colour + shape + letter: no answer is told apart by colour alone (Okabe-Ito palette).
export const OPTION_MARKS = [
  { letter: "A", shape: "▲", shapeName: "triangle" },
  { letter: "B", shape: "◆", shapeName: "diamond" },
  { letter: "C", shape: "●", shapeName: "circle" },
  { letter: "D", shape: "■", shapeName: "square" },
];

export function optionMark(index) {
  const mark = OPTION_MARKS[index % OPTION_MARKS.length];
  return el(
    "span",
    { className: `mark mark-${index % OPTION_MARKS.length}`, "aria-hidden": "true" },
    el("span", { className: "shape" }, mark.shape),
    el("span", { className: "letter" }, mark.letter),
  );
}

/** Connection state to the status line ("Reconnecting…" while the socket is down). */
export function showConnection(state) {
  const text = { connecting: "Connecting…", reconnecting: "Reconnecting…", open: "", closed: "" }[state] ?? "";
  const node = $("connection");
  node.textContent = text;
  node.dataset.state = state;
}

let alertTimer = null;

/** A visible, aria-live message (role=alert); `sticky` ones stay until replaced. */
export function showAlert(message, { sticky = false } = {}) {
  const node = $("alert");
  node.textContent = message;
  node.hidden = !message;
  clearTimeout(alertTimer);
  if (message && !sticky) alertTimer = setTimeout(() => showAlert(""), 8000);
}

/** A polite announcement for screen readers (score and rank changes). */
export function announce(message) {
  const node = $("live");
  node.textContent = "";
  // A change after a tick is announced even when the text repeats.
  setTimeout(() => {
    node.textContent = message;
  }, 50);
}

/** "1 player", "3 players" */
export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function ordinal(n) {
  const form = new Intl.PluralRules("en", { type: "ordinal" }).select(n);
  return `${n}${{ one: "st", two: "nd", few: "rd", other: "th" }[form]}`;
}

/** Leaderboard rows into an <ol>; the row of `meUid` is highlighted and always shown. */
export function renderLeaderboard(list, entries, { meUid = null, limit = 10 } = {}) {
  const shown = entries.slice(0, limit);
  const mine = entries.find((entry) => entry.user_id === meUid);
  const rows = shown.map((entry) => leaderboardRow(entry, meUid));
  if (mine && !shown.includes(mine)) {
    rows.push(el("li", { className: "gap", "aria-hidden": "true" }, "…"));
    rows.push(leaderboardRow(mine, meUid));
  }
  list.replaceChildren(...rows);
}

function leaderboardRow(entry, meUid) {
  const isMe = entry.user_id === meUid;
  return el(
    "li",
    { className: isMe ? "row me" : "row", "aria-current": isMe ? "true" : null, dataset: { uid: entry.user_id } },
    el("span", { className: "rank" }, `${entry.rank}.`),
    el("span", { className: "name" }, entry.username, isMe ? el("span", { className: "you" }, " (you)") : null),
    el("span", { className: "score" }, String(entry.score)),
  );
}

/**
 * The top three on a podium: DOM order first, second, third (read in order); CSS puts
 * them in three fixed columns, 2-1-3, so the winner stands in the middle however many
 * there are. A step's height and colour follow the rank (tied players share it).
 */
export function renderPodium(list, standings) {
  const places = standings.slice(0, 3).map((entry, position) =>
    el(
      "li",
      { className: `place slot-${position + 1} place-${Math.min(entry.rank, 3)}`, dataset: { uid: entry.user_id } },
      el("span", { className: "name" }, entry.username),
      el("span", { className: "score" }, `${entry.score} pts`),
      el("span", { className: "step" }, ordinal(entry.rank)),
    ),
  );
  list.replaceChildren(...places);
}

/** A question's countdown bar and seconds, on the server's clock (`nowMs`). */
export class Countdown {
  constructor(fillId, textId, nowMs) {
    this.fill = $(fillId);
    this.text = $(textId);
    this.box = this.fill.closest(".timer");
    this.nowMs = nowMs;
    this.interval = null;
  }

  start(deadlineMs, totalMs, onExpire = () => {}) {
    this.stop();
    const tick = () => {
      const leftMs = deadlineMs - this.nowMs();
      this.fill.style.width = `${Math.max(0, Math.min(1, leftMs / totalMs)) * 100}%`;
      const seconds = Math.max(0, Math.ceil(leftMs / 1000));
      this.box.classList.toggle("urgent", seconds <= 5);
      if (leftMs > 0) {
        if (this.text.textContent !== `${seconds} s`) this.text.textContent = `${seconds} s`;
        return;
      }
      this.stop("Time's up");
      onExpire();
    };
    tick();
    if (this.text.textContent !== "Time's up") this.interval = setInterval(tick, 250);
  }

  stop(text = null) {
    clearInterval(this.interval);
    this.interval = null;
    if (text !== null) {
      this.text.textContent = text;
      this.fill.style.width = "0%";
      this.box.classList.remove("urgent");
    }
  }
}

/**
 * Fetch a file (`fetching()`: a {blob, filename}, api.js fetchFile) and hand it to the
 * browser; the button stays focusable but inert while it comes, and a failure says so on
 * the alert line, leaving the rest of the screen as it was.
 */
export async function downloadFile(button, what, fetching) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  try {
    saveFile(await fetching());
  } catch (error) {
    showAlert(`Could not download ${what}: ${error.message}`);
  } finally {
    button.setAttribute("aria-disabled", "false");
  }
}

/** Hand a fetched file to the browser as a download (an object URL and <a download>). */
function saveFile({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: some browsers start reading the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
