// The host's page: pick a quiz (or upload one, private or public), create a session, show
// its code, link and QR code, watch players arrive, drive start / next / end over the host
// API, and follow answers and the leaderboard live over a WATCH_SESSION socket. Survives a
// reload (session id saved). At the end: the podium, results CSV, and the class view
// (which words most players missed) with a class CSV and the whole quiz as an Anki deck.

import { ApiError, HostApi } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig, socketUrl } from "./config.js";
import { renderAnswerChart, renderAnswersIn } from "./chart.js";
import { renderQr } from "./qr.js";
import { QuizSocket } from "./socket.js";
import {
  $, announce, Countdown, downloadFile, el, plural, renderLeaderboard, renderPodium, setText, show, showAlert, showConnection,
  showView,
} from "./ui.js";

const SESSION_KEY = "quiz.host.session";
const CONFIRM_MS = 4000;

const state = {
  session: null, // the API's view: {session_id, code, status, question_count, current_index, question_open}
  title: "",
  participants: new Map(), // user_id -> {user_id, username, score, connected}
  question: null, // QUESTION_STARTED payload
  stats: null,
  accepted: null, // after the reveal
  boardVersion: -1,
  heldBoard: null, // the newest LEADERBOARD_UPDATED while a question is open, shown at the reveal
  standings: null,
  busy: false,
  quizzes: new Map(), // quiz_id -> the quiz list's entry {quiz_id, title, question_count, public, library, yours}
  quizPageToken: null, // the list's next page, if any
  classQuizId: null, // the ended session's quiz (from the class view), for the deck's name
  classLoaded: null, // the session whose class view is shown: read again if a late answer moves the board
};
let config;
let auth;
let api;
let socket = null;
let countdown;

init();

async function init() {
  $("setup-form").addEventListener("submit", createSession);
  $("quiz-select").addEventListener("change", describeQuiz);
  window.addEventListener("resize", showClippedQuiz);
  $("more-quizzes").addEventListener("click", loadQuizzes);
  $("upload-form").addEventListener("submit", uploadQuiz);
  $("start-button").addEventListener("click", () => act("start"));
  $("next-button").addEventListener("click", () => act("next"));
  armConfirm($("end-button"), "Really end the quiz?", () => act("end"));
  $("copy-link").addEventListener("click", copyLink);
  const download = (id, what, fetching) =>
    $(id).addEventListener("click", (event) =>
      downloadFile(event.currentTarget, what, () => fetching(state.session.session_id)),
    );
  download("download-csv", "the results", (id) => api.resultsCsv(id));
  download("download-class-csv", "the class CSV", (id) => api.classCsv(id));
  download("download-deck", "the quiz deck", (id) => api.quizDeck(id, state.classQuizId));
  $("new-session").addEventListener("click", () => leaveSession());
  try {
    config = await loadConfig();
  } catch (error) {
    showAlert(error.message, { sticky: true });
    return;
  }
  auth = new Auth(config, "host");
  api = new HostApi(config, auth);
  countdown = new Countdown("host-timer-fill", "host-timer-text", () => socket?.serverNowMs() ?? Date.now());

  const savedId = localStorage.getItem(SESSION_KEY);
  if (savedId) {
    try {
      enterSession(await api.getSession(savedId));
      return;
    } catch (error) {
      if (error.status !== 404 && error.status !== 403) showAlert(error.message);
      localStorage.removeItem(SESSION_KEY);
    }
  }
  showSetup();
}

// -- setup ----------------------------------------------------------------------------

async function showSetup() {
  showView("setup-view");
  show("header-code", false);
  show("board-view", false);
  state.quizzes.clear();
  state.quizPageToken = null;
  $("quiz-select").replaceChildren(el("option", { value: "" }, "Loading quizzes…"));
  await loadQuizzes();
  $("quiz-select").focus();
}

// The list's groups say who may host a quiz, and so who can see its answers.
const QUIZ_GROUPS = [
  ["library", "Public library"],
  ["yours", "Your quizzes"],
  ["shared", "Shared by other hosts"],
];

function groupOf(quiz) {
  if (quiz.yours) return "yours";
  return quiz.library ? "library" : "shared";
}

/** The next page of the quiz list (the first after showSetup), added to what is shown. */
async function loadQuizzes() {
  try {
    const page = await api.listQuizzes(state.quizPageToken);
    for (const quiz of page.quizzes) state.quizzes.set(quiz.quiz_id, quiz);
    state.quizPageToken = page.next_page_token;
  } catch (error) {
    if (!state.quizzes.size) $("quiz-select").replaceChildren(el("option", { value: "" }, "Could not load quizzes"));
    showAlert(error.message);
    return;
  }
  renderQuizzes($("quiz-select").value);
}

function renderQuizzes(selected) {
  const select = $("quiz-select");
  const quizzes = [...state.quizzes.values()];
  const groups = QUIZ_GROUPS.map(([key, label]) => {
    const members = quizzes.filter((quiz) => groupOf(quiz) === key);
    return members.length ? el("optgroup", { label }, ...members.map(quizOption)) : null;
  }).filter(Boolean);
  select.replaceChildren(...(groups.length ? groups : [el("option", { value: "" }, "No quizzes found")]));
  if (state.quizzes.has(selected)) select.value = selected;
  show("more-quizzes", Boolean(state.quizPageToken));
  describeQuiz();
}

function quizOption(quiz) {
  const visibility = quiz.yours ? ` · ${quiz.public ? "public" : "private"}` : "";
  const label = `${quiz.title} (${plural(quiz.question_count, "question")})${visibility}`;
  return el("option", { value: quiz.quiz_id }, label);
}

function describeQuiz() {
  showClippedQuiz();
  const quiz = state.quizzes.get($("quiz-select").value);
  const shuffled = "Each session shuffles its questions and their options.";
  let note = "";
  if (quiz?.public) {
    note = `Public: any host can host this quiz, and so see its answers, as on any quiz platform. ${shuffled}`;
  } else if (quiz) {
    note = `Private: only you can host it or see it listed. ${shuffled}`;
  }
  setText("quiz-note", note);
}

/**
 * A closed <select> shows one line, cut (with an ellipsis) when the chosen quiz's label
 * is wider than the box, as on a phone. Then the whole label is written out under it.
 */
function showClippedQuiz() {
  const select = $("quiz-select");
  const option = select.selectedOptions[0];
  const label = option?.value ? option.textContent : "";
  setText("quiz-chosen", label);
  show("quiz-chosen", Boolean(label) && labelIsCut(select, label));
}

const ARROW_ROOM_PX = 28; // the select's drop-down arrow and the gap before it

function labelIsCut(select, label) {
  const style = getComputedStyle(select);
  const context = (labelIsCut.canvas ??= document.createElement("canvas")).getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - ARROW_ROOM_PX;
  return context.measureText(label).width > room;
}

async function uploadQuiz(event) {
  event.preventDefault();
  const file = $("quiz-file").files[0];
  if (!file) return showAlert("Choose a quiz file first.");
  const visibility = new FormData($("upload-form")).get("visibility") || "private";
  $("upload-button").disabled = true;
  try {
    const uploaded = await api.uploadQuiz(await file.text(), visibility);
    state.quizzes.set(uploaded.quiz_id, { ...uploaded, library: false, yours: true });
    renderQuizzes(uploaded.quiz_id);
    $("upload-form").reset();
    showAlert(`Uploaded “${uploaded.title}” as ${uploaded.public ? "public" : "private"}: it is selected above.`);
  } catch (error) {
    showAlert(error.message);
  } finally {
    $("upload-button").disabled = false;
  }
}

async function createSession(event) {
  event.preventDefault();
  const quizId = $("quiz-select").value;
  const maxParticipants = Number($("max-participants").value);
  if (!quizId) return showAlert("Pick a quiz first.");
  if (!Number.isInteger(maxParticipants) || maxParticipants < 1) return showAlert("Most players must be 1 or more.");
  $("create-button").disabled = true;
  try {
    enterSession(await api.createSession(quizId, maxParticipants, $("auto-advance").checked));
  } catch (error) {
    showAlert(error.message);
  } finally {
    $("create-button").disabled = false;
  }
}

function enterSession(session) {
  localStorage.setItem(SESSION_KEY, session.session_id);
  state.session = session;
  state.participants.clear();
  state.question = null;
  state.standings = null;
  state.boardVersion = -1;
  state.heldBoard = null;
  const joinUrl = `${location.origin}/?code=${encodeURIComponent(session.code)}`;
  setText("join-code", session.code);
  setText("header-code-value", session.code);
  show("header-code");
  $("join-link").href = joinUrl;
  // The whole link, as the QR code has it, without the scheme; on a narrow screen it
  // breaks before "?code=…" (kept in one piece) rather than inside it.
  const site = location.host;
  const query = el("span", { className: "join-query" }, `?code=${encodeURIComponent(session.code)}`);
  $("join-link").replaceChildren(`${site}/`, query);
  $("join-link").setAttribute("aria-label", `${site}/${query.textContent}`); // read whole, without a gap
  setText("join-site", site);
  renderQr($("qr"), joinUrl);
  renderParticipants();
  socket?.stop();
  socket = new QuizSocket({
    auth,
    url: socketUrl(),
    onFrame: handle,
    onState: showConnection,
    resume: () => ({ type: "WATCH_SESSION", payload: { session_id: state.session.session_id } }),
  });
  socket.start();
  updateView();
}

function leaveSession() {
  socket?.stop();
  socket = null;
  countdown.stop();
  state.session = null;
  localStorage.removeItem(SESSION_KEY);
  showConnection("closed");
  showSetup();
}

async function copyLink() {
  try {
    await navigator.clipboard.writeText($("join-link").href);
    showAlert("Join link copied.");
  } catch {
    showAlert(`Copy this link: ${$("join-link").href}`, { sticky: true });
  }
}

// -- host actions ---------------------------------------------------------------------

async function act(verb) {
  if (state.busy || !state.session) return;
  state.busy = true; // one click, one step: a double "next" would skip a question
  updateControls();
  try {
    applySession(await api.act(state.session.session_id, verb));
  } catch (error) {
    showAlert(error.message);
  } finally {
    state.busy = false;
    updateControls();
  }
}

function applySession(changes) {
  state.session = { ...state.session, ...changes };
  updateView();
}

function updateView() {
  const { status } = state.session;
  setText("lobby-title", state.title || "Waiting for players");
  if (status === "waiting") showView("lobby-view");
  else if (status === "active") showView("run-view");
  else if (status === "completed" && $("results-view").hidden) showResults();
  show("board-view", status !== "waiting");
  updateControls();
}

function updateControls() {
  const session = state.session;
  if (!session) return;
  $("start-button").disabled = state.busy;
  const next = $("next-button");
  next.disabled = state.busy;
  const last = (session.current_index ?? -1) + 1 >= session.question_count;
  next.textContent = session.question_open ? "Reveal answer" : last ? "Show final results" : "Next question";
  $("end-button").disabled = state.busy;
  const index = session.current_index ?? 0;
  setText("host-progress", `Question ${index + 1} of ${session.question_count}`);
  const known = state.question?.index === session.current_index;
  show("host-timer", known);
  if (!known && session.status === "active") {
    // After a reload the server re-sends an open question, but not a revealed one.
    setText("host-question-text", session.question_open ? "Loading the question…" : "The answer has been revealed.");
    $("chart").replaceChildren();
    setText("host-answered", "");
    show("answers-in-track", false);
  }
}

/** A destructive button asks once more ("Really …?") before it acts; the question is
 * its text and, when given, its accessible name. */
function armConfirm(button, armedText, action, armedLabel = null) {
  const idleText = button.textContent;
  const idleLabel = button.getAttribute("aria-label");
  let armed = null;
  const label = (text, aria) => {
    button.textContent = text;
    if (aria) button.setAttribute("aria-label", aria);
  };
  button.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed);
      armed = null;
      label(idleText, idleLabel);
      action();
      return;
    }
    label(armedText, armedLabel);
    armed = setTimeout(() => {
      armed = null;
      label(idleText, idleLabel);
    }, CONFIRM_MS);
  });
}

// -- frames ---------------------------------------------------------------------------

function handle(frame) {
  const p = frame.payload || {};
  if (p.session_id && state.session && p.session_id !== state.session.session_id) return;
  const handlers = {
    SESSION_JOINED: onWatching,
    USER_JOINED: onUserJoined,
    USER_LEFT: onUserLeft,
    PRESENCE_UPDATED: onPresence,
    LEADERBOARD_UPDATED: onLeaderboard,
    QUESTION_STARTED: onQuestion,
    ANSWER_STATS: onStats,
    QUESTION_ENDED: onReveal,
    SESSION_ENDED: onEnded,
    ERROR: onError,
  };
  handlers[frame.type]?.(p);
}

function onWatching(p) {
  state.title = p.quiz_title || state.title;
  if (Array.isArray(p.participants)) {
    state.participants = new Map(p.participants.map((entry) => [entry.user_id, { connected: true, ...entry }]));
  }
  renderParticipants();
  applySession({ status: p.status ?? state.session.status });
}

function onUserJoined(p) {
  const known = state.participants.get(p.user_id);
  state.participants.set(p.user_id, { score: 0, ...known, user_id: p.user_id, username: p.username, connected: true });
  renderParticipants();
  if (!known) announce(`${p.username} joined.`);
}

// A join storm's arrivals and departures, in order, as one frame per pacing gap.
function onPresence(p) {
  for (const change of p.changes || []) {
    if (change.type === "USER_JOINED") onUserJoined(change);
    else if (change.type === "USER_LEFT") onUserLeft(change);
  }
}

function onUserLeft(p) {
  if (p.kicked) state.participants.delete(p.user_id);
  else if (state.participants.has(p.user_id)) state.participants.get(p.user_id).connected = false;
  renderParticipants();
}

function renderParticipants() {
  const people = [...state.participants.values()].sort((a, b) => a.username.localeCompare(b.username));
  const count = people.length;
  setText("participant-count", plural(count, "player"));
  setText("run-participant-count", count);
  // A player who left keeps their seat (and may come back): say how many are here now.
  const here = people.filter((person) => person.connected !== false).length;
  for (const id of ["present-count", "run-present-count"]) {
    setText(id, ` · ${here} here`);
    show(id, here < count);
  }
  show("no-players", count === 0);
  for (const listId of ["participants", "run-participants"]) {
    $(listId).replaceChildren(...people.map(participantRow));
  }
  renderAnswered();
}

function participantRow(person) {
  const remove = el("button", { type: "button", className: "small danger" }, "Remove");
  remove.setAttribute("aria-label", `Remove ${person.username}`);
  armConfirm(remove, "Confirm remove", () => kick(person), `Confirm removing ${person.username}`);
  return el(
    "li",
    { className: person.connected === false ? "participant away" : "participant", dataset: { uid: person.user_id } },
    el("span", { className: "name" }, person.username),
    person.connected === false ? el("span", { className: "hint" }, " (left)") : null,
    remove,
  );
}

async function kick(person) {
  try {
    await api.kick(state.session.session_id, person.user_id);
    state.participants.delete(person.user_id);
    renderParticipants();
    announce(`${person.username} was removed.`);
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404 && error.code.startsWith("HTTP_");
    showAlert(missing ? "Removing players is not available on this server yet." : error.message);
  }
}

function onLeaderboard(p) {
  if (typeof p.version === "number" && p.version < state.boardVersion) return;
  state.boardVersion = p.version ?? state.boardVersion;
  // The host's screen is shown to the room: scores moving while a question is open would
  // tell the room who got it right. The newest board waits for the reveal.
  if (state.question && !state.accepted) {
    state.heldBoard = p;
    return;
  }
  showBoard(p);
  // Answers sent just before the end can be scored after the class view was read.
  if (state.classLoaded === state.session?.session_id) loadClassView(state.classLoaded);
}

function showBoard(p) {
  state.heldBoard = null;
  const entries = p.leaderboard || [];
  renderLeaderboard($("board"), entries, { limit: 10 });
  setText("board-total", plural(p.total_participants ?? entries.length, "player"));
  for (const entry of entries) {
    const person = state.participants.get(entry.user_id);
    if (person) person.score = entry.score;
  }
}

function onQuestion(p) {
  const same = state.question?.question.question_id === p.question.question_id && !state.accepted;
  state.question = p;
  if (!same) {
    state.stats = { answered: 0, correct: 0, distribution: {} };
    state.accepted = null;
  }
  setText("host-question-text", p.question.text);
  show("host-reveal", false);
  const deadlineMs = p.deadline_ms ?? Date.parse(p.deadline);
  countdown.start(deadlineMs, (p.question.time_limit_s || 20) * 1000);
  applySession({ status: "active", current_index: p.index, question_open: true });
  renderChart();
}

function onStats(p) {
  if (!state.question || state.accepted || p.question_id !== state.question.question.question_id) return;
  state.stats = { answered: p.answered, correct: p.correct, distribution: p.distribution || {} };
  renderChart();
}

function onReveal(p) {
  if (!state.question || p.question_id !== state.question.question.question_id) {
    applySession({ question_open: false, current_index: p.index });
    return;
  }
  state.stats = p.stats || state.stats;
  state.accepted = p.accepted_answers || [];
  countdown.stop("Closed");
  setText("host-reveal-answer", `Answer: ${state.accepted.join(", ")}`);
  setText("host-reveal-explanation", p.explanation || "");
  show("host-reveal");
  applySession({ question_open: false, current_index: p.index });
  renderChart();
  if (state.heldBoard) showBoard(state.heldBoard);
}

function renderAnswered() {
  if (!state.stats) return;
  const { answered, correct } = state.stats;
  const total = state.participants.size;
  setText(
    "host-answered",
    `${answered}${total ? ` of ${total}` : ""} answered${state.accepted ? ` · ${correct} correct` : ""}`,
  );
  renderAnswersIn($("answers-in-fill"), answered, total);
  show("answers-in-track", !state.accepted);
}

function renderChart() {
  renderAnswerChart($("chart"), state.question.question, state.stats, state.accepted);
  setText("chart-title", state.accepted ? "Answers given" : "Options");
  renderAnswered();
}

function onEnded(p) {
  state.standings = p.standings || [];
  state.heldBoard = null;
  countdown.stop();
  renderLeaderboard($("board"), state.standings, { limit: 10 });
  applySession({ status: "completed", question_open: false });
  renderPodium($("podium"), state.standings);
}

async function showResults() {
  showView("results-view");
  show("board-view");
  if (state.standings) renderPodium($("podium"), state.standings);
  $("results-title").focus();
  loadClassView(state.session.session_id);
  try {
    const results = await api.results(state.session.session_id);
    if (!state.standings) renderPodium($("podium"), results.players || []);
    $("question-rows").replaceChildren(...(results.questions || []).map(questionRow));
  } catch (error) {
    showAlert(error.status === 404 ? "Detailed results are not available on this server yet." : error.message);
  }
}

function questionRow(q) {
  const accuracy = q.accuracy === null ? "–" : `${q.correct}/${q.answered} (${Math.round(q.accuracy * 100)}%)`;
  const time = q.average_time_ms === null ? "–" : `${(q.average_time_ms / 1000).toFixed(1)} s`;
  const cells = [String(q.index + 1), q.text, accuracy, time].map((text) => el("td", {}, text));
  return el("tr", {}, ...cells);
}

// -- class view -----------------------------------------------------------------------

/** Per word, hardest first: how many got it, answered it, and the wrong answers most given. */
async function loadClassView(sessionId) {
  state.classQuizId = state.session?.quiz_id ?? null;
  $("class-rows").replaceChildren();
  show("class-scroll", false);
  setClassStatus("Loading the class view…");
  let view;
  try {
    view = await api.classView(sessionId);
  } catch (error) {
    if (state.session?.session_id !== sessionId) return;
    const missing = error instanceof ApiError && error.status === 404 && error.code.startsWith("HTTP_");
    const message = missing ? "The class view is not available on this server yet." : error.message;
    setClassStatus(`Could not load the class view: ${message}`, { error: true });
    return;
  }
  if (state.session?.session_id !== sessionId) return;
  state.classLoaded = sessionId;
  state.classQuizId = view.quiz_id || state.classQuizId;
  const words = view.words || [];
  if (!words.length) {
    setClassStatus("No question was played, so there is nothing to show.");
    return;
  }
  const hardest = words[0];
  setClassStatus(
    `${plural(view.players ?? 0, "player")}, ${plural(words.length, "word")}, hardest first` +
      (hardest.missed ? `: ${hardest.missed} of ${hardest.players ?? view.players} missed “${hardest.word}”.` : "."),
  );
  // A word's players are those in the session by its reveal (late joiners did not see it).
  $("class-rows").replaceChildren(...words.map((word) => classRow(word, word.players ?? view.players)));
  show("class-scroll");
}

function setClassStatus(text, { error = false } = {}) {
  const node = $("class-status");
  node.className = error ? "review-status error" : "review-status";
  node.textContent = text;
}

function classRow(word, players) {
  const correct =
    word.accuracy === null || word.accuracy === undefined
      ? "–"
      : `${word.correct} of ${players} (${Math.round(word.accuracy * 100)}%)`;
  const wrong = word.wrong_answers?.length
    ? el("ul", { className: "wrong-answers" }, ...word.wrong_answers.map((a) => el("li", {}, `${a.answer} (${a.count})`)))
    : el("span", { className: "hint" }, "none");
  return el(
    "tr",
    { dataset: { questionId: word.question_id } },
    el(
      "th",
      { scope: "row" },
      el("span", { className: "class-word" }, word.word),
      el("span", { className: "class-question" }, `Question ${word.index + 1}: ${word.text}`),
    ),
    el(
      "td",
      {},
      el("span", { className: "class-correct" }, correct),
      el("span", { className: "class-answered" }, `${word.answered} answered`),
    ),
    el("td", { className: "class-wrong" }, wrong),
  );
}

function onError(p) {
  if (p.code === "NOT_HOST" || p.code === "INVALID_SESSION") {
    showAlert(p.code === "NOT_HOST" ? "You are not the host of that session." : "That session no longer exists.", {
      sticky: true,
    });
    leaveSession();
    return;
  }
  showAlert(p.message || "Something went wrong.");
}
