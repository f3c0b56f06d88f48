// The player's page: join by code, answer timed questions, follow score, rank and the
// leaderboard live. Survives a reload: same uid (auth.js), the session saved here, REJOIN.
// At the end, the player's own review of what they missed, to read and to download.

import { ApiError, PlayerApi } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig, socketUrl } from "./config.js";
import { QuizSocket } from "./socket.js";
import {
  $, announce, Countdown, downloadFile, el, optionMark, OPTION_MARKS, ordinal, plural, renderLeaderboard, renderPodium,
  setText, show, showAlert, showConnection, showView,
} from "./ui.js";

const SESSION_KEY = "quiz.player.session";
const CODE_PATTERN = /^[A-Z0-9]{6}$/;
// After a reconnect, how long to wait for the server to re-send the open question before
// taking the question on screen as closed (it ended while we were away).
const RESUME_WAIT_MS = 2500;
// Every player of a session asks for their review at the same SESSION_ENDED: spread over
// this long, a thousand players' requests reach the API as a stream, not a spike.
const REVIEW_SPREAD_MS = 1500;

const state = {
  joined: null, // {session_id, username, answers: {question_id: answer}, standings} (saved)
  pendingJoin: null,
  score: 0,
  rank: null,
  total: 0,
  boardVersion: -1,
  question: null, // the QUESTION_STARTED payload on screen
  answered: false,
  chosen: null,
  revealed: false,
  closed: false, // no more answers accepted here (deadline passed or revealed)
  serverSaysAnswered: false,
  resumeCheck: null,
  // The session's auto_advance from SESSION_JOINED: whether the next question opens by itself.
  autoAdvance: false,
};
let auth;
let api;
let socket;
// The session whose review is shown (or loading): it is fetched once per end screen.
let reviewFor = null;
let countdown;

init();

async function init() {
  $("join-form").addEventListener("submit", submitJoin);
  $("typed-form").addEventListener("submit", submitTyped);
  $("play-again").addEventListener("click", () => forget({ keepCode: false }));
  $("download-apkg").addEventListener("click", (event) => downloadReview("apkg", event.currentTarget));
  $("download-missed-csv").addEventListener("click", (event) => downloadReview("csv", event.currentTarget));
  document.addEventListener("keydown", onShortcut);

  const linkCode = normaliseCode(new URLSearchParams(location.search).get("code") || "");
  const saved = readJson(SESSION_KEY);
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    showAlert(error.message, { sticky: true });
    return;
  }
  auth = new Auth(config, "player");
  api = new PlayerApi(config, auth);
  socket = new QuizSocket({
    auth,
    url: socketUrl(),
    onFrame: handle,
    onState: showConnection,
    resume: () => (state.joined ? { type: "REJOIN", payload: { session_id: state.joined.session_id } } : null),
  });
  countdown = new Countdown("timer-fill", "timer-text", () => socket.serverNowMs());
  if (saved?.session_id && (!linkCode || linkCode === saved.session_id)) {
    state.joined = { answers: {}, standings: null, ...saved };
    setText("lobby-title", "Rejoining…");
    setText("lobby-message", `Rejoining quiz ${saved.session_id}…`);
    showView("lobby-view");
    socket.start();
    return;
  }
  showJoinForm(linkCode, saved?.username || "");
}

// -- joining --------------------------------------------------------------------------

function showJoinForm(code = "", username = "") {
  showView("join-view");
  show("me", false);
  show("board-view", false);
  $("join-code").value = code;
  if (username && !$("join-name").value) $("join-name").value = username;
  (code ? $("join-name") : $("join-code")).focus();
}

function submitJoin(event) {
  event.preventDefault();
  const code = normaliseCode($("join-code").value);
  const username = $("join-name").value.trim();
  $("join-code").value = code;
  markInvalid("join-code", !CODE_PATTERN.test(code));
  markInvalid("join-name", !username);
  if (!CODE_PATTERN.test(code)) return fail("Enter the 6-character code shown on the host's screen.", "join-code");
  if (!username) return fail("Enter a name to play under.", "join-name");
  showAlert("");
  state.pendingJoin = { session_id: code, username };
  $("join-button").disabled = true;
  setText("join-button", "Joining…");
  socket.start();
  socket.send("JOIN_SESSION", { session_id: code, username });
}

function normaliseCode(text) {
  return text.replace(/\s+/g, "").toUpperCase();
}

function markInvalid(id, invalid) {
  $(id).setAttribute("aria-invalid", invalid ? "true" : "false");
}

function fail(message, focusId) {
  showAlert(message);
  if (focusId) $(focusId).focus();
}

function resetJoinButton() {
  $("join-button").disabled = false;
  setText("join-button", "Join");
}

/** Drop the saved session (left, kicked, ended or unknown) and go back to the join form. */
function forget({ keepCode = true } = {}) {
  const code = keepCode ? state.joined?.session_id || state.pendingJoin?.session_id || "" : "";
  const username = state.joined?.username || state.pendingJoin?.username || "";
  state.joined = null;
  state.pendingJoin = null;
  state.question = null;
  countdown?.stop();
  clearReview();
  localStorage.removeItem(SESSION_KEY);
  history.replaceState(null, "", location.pathname);
  resetJoinButton();
  showJoinForm(code, username);
}

function save() {
  if (state.joined) localStorage.setItem(SESSION_KEY, JSON.stringify(state.joined));
}

// -- frames ---------------------------------------------------------------------------

function handle(frame) {
  const payload = frame.payload || {};
  const handlers = {
    SESSION_JOINED: onJoined,
    USER_JOINED: onCount,
    USER_LEFT: onCount,
    PRESENCE_UPDATED: onCount, // several arrivals and departures in one frame (a join storm)
    SCORE_UPDATED: onScore,
    LEADERBOARD_UPDATED: onLeaderboard,
    QUESTION_STARTED: onQuestion,
    QUESTION_ENDED: onReveal,
    SESSION_ENDED: onEnded,
    ERROR: onError,
  };
  handlers[frame.type]?.(payload, frame);
}

function onJoined(p) {
  const previous = state.joined?.session_id === p.session_id ? state.joined : null;
  state.joined = {
    session_id: p.session_id,
    username: p.username,
    answers: previous?.answers || {},
    standings: previous?.standings || null,
  };
  state.pendingJoin = null;
  state.serverSaysAnswered = p.answered_current === true;
  state.autoAdvance = p.auto_advance === true;
  save();
  resetJoinButton();
  history.replaceState(null, "", `${location.pathname}?code=${encodeURIComponent(p.session_id)}`);
  setText("me-name", p.username);
  show("me");
  show("board-view");
  setText("lobby-title", p.quiz_title || "Quiz");
  onCount(p);
  updateMe(p.your_score ?? state.score, p.your_rank ?? state.rank);

  if (p.status === "completed") {
    showEnd(state.joined.standings, p.your_rank);
    return;
  }
  const onScreen = state.question && !state.revealed;
  if (p.status === "active" && onScreen) {
    // A reconnect: the open question follows this frame, unless it closed meanwhile.
    clearTimeout(state.resumeCheck);
    state.resumeCheck = setTimeout(() => closeQuestion("This question closed while you were away."), RESUME_WAIT_MS);
    return;
  }
  let message = "You're in! Get ready for the next question…";
  if (p.status === "waiting") message = "You're in! Waiting for the host to start…";
  else if (!state.autoAdvance) message = "You're in! Waiting for the host to start the next question.";
  setText("lobby-message", message);
  showView("lobby-view");
}

function onCount(p) {
  if (typeof p.participant_count !== "number") return;
  setText("lobby-count", p.participant_count);
  setText("lobby-count-label", p.participant_count === 1 ? "player" : "players");
}

function onScore(p) {
  if (state.question?.question.question_id === p.question_id) {
    state.answered = true;
    const node = $("answer-state");
    node.className = `answer-state ${p.is_correct ? "correct" : "wrong"}`;
    node.textContent = p.is_correct ? `Correct! +${p.points_earned} points` : "Not quite: 0 points this time.";
  }
  // A redelivered command replays its old SCORE_UPDATED late; a score only ever grows.
  if (p.new_score >= state.score) updateMe(p.new_score, state.rank);
  // An answer sent just before the end can be scored after the review was read: read it again.
  if (reviewFor) retryReview(reviewFor);
}

function onLeaderboard(p) {
  if (typeof p.version === "number" && p.version < state.boardVersion) return; // a late, older flush
  state.boardVersion = p.version ?? state.boardVersion;
  const entries = p.leaderboard || [];
  // The board carries the top 10; below it, this player's own row comes from your_rank.
  const listed = entries.some((entry) => entry.user_id === auth.uid);
  const own = !listed && typeof p.your_rank === "number" && state.joined
    ? [{ rank: p.your_rank, user_id: auth.uid, username: state.joined.username, score: state.score }]
    : [];
  renderLeaderboard($("board"), [...entries, ...own], { meUid: auth.uid });
  setText("board-total", plural(p.total_participants ?? entries.length, "player"));
  state.total = p.total_participants ?? entries.length;
  const mine = entries.find((entry) => entry.user_id === auth.uid);
  updateMe(mine ? mine.score : state.score, p.your_rank ?? state.rank);
}

function updateMe(score, rank) {
  const changed = score !== state.score || rank !== state.rank;
  state.score = score ?? 0;
  state.rank = rank ?? null;
  setText("me-score", state.score);
  setText("me-rank", state.rank ? `#${state.rank}` : "–");
  if (changed) announce(`Your score: ${state.score}.${state.rank ? ` Rank ${state.rank}.` : ""}`);
}

// -- questions ------------------------------------------------------------------------

function onQuestion(p) {
  clearTimeout(state.resumeCheck);
  const question = p.question;
  const same = state.question?.question.question_id === question.question_id && !state.revealed;
  state.question = p;
  if (same) {
    if (state.serverSaysAnswered) markAnswered(state.chosen);
    state.serverSaysAnswered = false;
    startTimer();
    return;
  }
  state.revealed = false;
  state.closed = false;
  state.chosen = null;
  const given = state.joined?.answers[question.question_id] ?? null;
  state.answered = state.serverSaysAnswered || given !== null;
  state.serverSaysAnswered = false;

  setText("question-progress", `Question ${p.index + 1} of ${p.count}`);
  setText("question-points", `${question.points} points`);
  setText("question-text", question.text);
  const choice = question.kind === "choice";
  $("choices").replaceChildren(...(choice ? question.options.map(optionButton) : []));
  show("choices", choice);
  show("typed-form", !choice);
  $("typed-answer").value = "";
  show("reveal", false);
  $("answer-state").className = "answer-state";
  setText("answer-state", "");
  showView("question-view");
  if (state.answered) markAnswered(given);
  setInputsOpen(!state.answered);
  startTimer();
  if (!state.answered) (choice ? $("choices").querySelector("button") : $("typed-answer"))?.focus();
}

function optionButton(option, index) {
  const mark = OPTION_MARKS[index % OPTION_MARKS.length];
  return el(
    "button",
    {
      type: "button",
      className: `option option-${index % OPTION_MARKS.length}`,
      dataset: { answer: option },
      "aria-keyshortcuts": String(index + 1),
      onclick: () => submitAnswer(option),
    },
    optionMark(index),
    el("span", { className: "visually-hidden" }, `${mark.letter}: `),
    el("span", { className: "option-text" }, option),
    el("span", { className: "verdict", "aria-hidden": "true" }),
  );
}

function submitTyped(event) {
  event.preventDefault();
  const text = $("typed-answer").value.trim();
  if (!text) return fail("Type an answer first.", "typed-answer");
  submitAnswer(text);
}

function submitAnswer(text) {
  const p = state.question;
  if (!p || state.answered || state.closed || !state.joined) return;
  state.answered = true;
  state.chosen = text;
  // Kept for a reload: "Answer submitted: …" and the choice highlighted again.
  state.joined.answers = { ...lastEntries(state.joined.answers, 20), [p.question.question_id]: text };
  save();
  socket.send("SUBMIT_ANSWER", {
    session_id: state.joined.session_id,
    question_id: p.question.question_id,
    answer: text,
  });
  markAnswered(text, { restored: false });
}

function lastEntries(object, count) {
  return Object.fromEntries(Object.entries(object).slice(-count));
}

function markAnswered(text, { restored = true } = {}) {
  state.answered = true;
  if (text) state.chosen = text;
  for (const button of $("choices").querySelectorAll("button")) {
    const picked = button.dataset.answer === state.chosen;
    button.classList.toggle("chosen", picked);
    button.setAttribute("aria-pressed", picked ? "true" : "false");
  }
  if (state.chosen && state.question?.question.kind === "typed") $("typed-answer").value = state.chosen;
  setInputsOpen(false);
  const node = $("answer-state");
  if (node.classList.contains("correct") || node.classList.contains("wrong")) return; // the verdict is in
  node.className = "answer-state submitted";
  const quoted = state.chosen ? ` “${state.chosen}”` : "";
  // Just sent: the verdict follows in a moment. Restored (reload, reconnect): it was
  // shown before, so say what happens next instead.
  node.textContent = restored
    ? `Your answer${quoted} is in. The right answer is shown when the question closes.`
    : `Answer submitted:${quoted}. Checking…`;
}

/** Inputs stay focusable when closed (aria-disabled), so keyboard focus is never lost. */
function setInputsOpen(open) {
  for (const node of [...$("choices").querySelectorAll("button"), $("typed-answer"), $("typed-submit")]) {
    node.setAttribute("aria-disabled", open ? "false" : "true");
  }
  $("typed-answer").readOnly = !open;
}

function onShortcut(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target instanceof HTMLInputElement || $("question-view").hidden) return;
  const index = Number(event.key) - 1;
  const options = state.question?.question.options || [];
  if (state.question?.question.kind === "choice" && index >= 0 && index < options.length) {
    event.preventDefault();
    $("choices").querySelectorAll("button")[index].focus();
    submitAnswer(options[index]);
  }
}

function startTimer() {
  const p = state.question;
  const deadlineMs = p.deadline_ms ?? Date.parse(p.deadline);
  countdown.start(deadlineMs, (p.question.time_limit_s || 20) * 1000, () => closeQuestion("Time's up!"));
}

/** No more answers (deadline passed, or the question ended while we were away). */
function closeQuestion(message, timerText = "Time's up") {
  state.closed = true;
  countdown.stop(timerText);
  setInputsOpen(false);
  if (!state.answered) {
    $("answer-state").className = "answer-state";
    setText("answer-state", message);
  }
}

function onReveal(p) {
  if (!state.question || state.question.question.question_id !== p.question_id) return;
  state.revealed = true;
  clearTimeout(state.resumeCheck);
  const early = closedEarly(p);
  closeQuestion("You didn't answer this one.", early ? "Closed early" : "Time's up");
  const accepted = p.accepted_answers || [];
  const isChoice = state.question.question.kind === "choice";
  for (const button of $("choices").querySelectorAll("button")) {
    const right = accepted.includes(button.dataset.answer);
    const wrong = !right && button.dataset.answer === state.chosen;
    button.classList.toggle("correct", right);
    button.classList.toggle("wrong", wrong);
    button.querySelector(".verdict").textContent = right ? "✓" : wrong ? "✗" : "";
  }
  const label = isChoice || accepted.length === 1 ? "Answer" : "Accepted answers";
  setText("reveal-answer", `${label}: ${accepted.join(", ")}`);
  setText("reveal-explanation", p.explanation || "");
  show("reveal-explanation", Boolean(p.explanation));
  setText("reveal-reason", early ? "The host closed this question before the time was up." : "");
  show("reveal-reason", early);
  setText("reveal-next", whatComesNext());
  show("reveal");
}

/** Whether the host revealed the answer before the deadline (the timer closes a question only after it). */
function closedEarly(p) {
  return p.revealed_at_ms != null && p.revealed_at_ms < p.deadline_ms;
}

/** Who opens the next question (or the final results). */
function whatComesNext() {
  const last = state.question.index + 1 >= state.question.count;
  if (state.autoAdvance) return last ? "Final results coming up…" : "Next question coming up…";
  return last ? "Waiting for the host to show the final results." : "Waiting for the host to start the next question.";
}

function onEnded(p) {
  countdown.stop();
  state.question = null;
  if (state.joined) {
    state.joined.standings = p.standings || [];
    save();
  }
  renderLeaderboard($("board"), p.standings || [], { meUid: auth.uid });
  showEnd(p.standings || [], state.rank, p.total_participants);
}

function showEnd(standings, fallbackRank, total) {
  showView("end-view");
  renderPodium($("podium"), standings || []);
  const mine = (standings || []).find((entry) => entry.user_id === auth.uid);
  const rank = mine?.rank ?? fallbackRank;
  const score = mine?.score ?? state.score;
  const of = total ?? state.total;
  setText(
    "final-summary",
    rank
      ? `You finished ${ordinal(rank)}${of ? ` of ${of}` : ""} with ${score} points.`
      : `You scored ${score} points.`,
  );
  $("end-title").focus?.();
  loadReview(state.joined?.session_id, { spread: true });
}

// -- review ---------------------------------------------------------------------------

/** The player's missed and skipped questions, under the podium (which a failure here never touches). */
async function loadReview(sessionId, { spread = false } = {}) {
  if (!sessionId || reviewFor === sessionId) return;
  reviewFor = sessionId;
  show("review");
  show("review-downloads", false);
  $("review-list").replaceChildren();
  setReviewStatus("Loading your review…");
  let review;
  try {
    if (spread) await new Promise((resolve) => setTimeout(resolve, Math.random() * REVIEW_SPREAD_MS));
    review = await api.review(sessionId);
  } catch (error) {
    if (reviewFor !== sessionId) return;
    setReviewStatus(reviewError(error), { error: true, retry: () => retryReview(sessionId) });
    return;
  }
  if (reviewFor === sessionId) renderReview(review);
}

function retryReview(sessionId) {
  reviewFor = null;
  loadReview(sessionId);
}

function clearReview() {
  reviewFor = null;
  show("review", false);
  $("review-list").replaceChildren();
}

function reviewError(error) {
  if (error instanceof ApiError) {
    if (error.code === "NOT_JOINED") return "Your review is not available: this quiz no longer has you as a player.";
    if (error.code === "INVALID_SESSION") return "This quiz is no longer on the server, so neither is its review.";
    if (error.status === 404) return "Reviews are not available on this server yet.";
    if (error.status === 0) return `Could not load your review. ${error.message}`;
  }
  return `Could not load your review: ${error.message}`;
}

/** The review's one status line; an error says so in words (not only in colour), with a retry. */
function setReviewStatus(text, { error = false, retry = null } = {}) {
  const node = $("review-status");
  node.className = error ? "review-status error" : "review-status";
  const again = retry ? el("button", { type: "button", className: "small", onclick: retry }, "Try again") : null;
  node.replaceChildren(text, ...(again ? [" ", again] : []));
}

function renderReview(review) {
  const missed = review.missed || [];
  const played = review.played ?? 0;
  let summary;
  if (!played) summary = "No question was played, so there is nothing to review.";
  else if (!missed.length) summary = played === 1 ? "You got the one question right." : `You got all ${played} right.`;
  else summary = `You got ${review.correct ?? played - missed.length} of ${played} right. ${plural(missed.length, "word")} to review:`;
  setReviewStatus(summary);
  $("review-list").replaceChildren(...missed.map(reviewItem));
  show("review-downloads", missed.length > 0);
}

function reviewItem(item) {
  const skipped = item.outcome === "skipped";
  const accepted = item.accepted_answers?.length ? item.accepted_answers : [item.word];
  const meaning = item.meaning && item.meaning !== item.text ? item.meaning : "";
  return el(
    "li",
    { className: `review-item ${skipped ? "skipped" : "wrong"}`, dataset: { questionId: item.question_id } },
    el("h3", { className: "review-word" }, item.word),
    el("p", { className: "review-question" }, `Question ${item.index + 1}: ${item.text}`),
    el(
      "p",
      { className: "review-yours" },
      el("span", { className: "review-mark", "aria-hidden": "true" }, skipped ? "–" : "✗"),
      skipped ? "Skipped" : `Your answer: ${item.your_answer}`,
    ),
    el(
      "p",
      { className: "review-accepted" },
      el("span", { className: "review-mark", "aria-hidden": "true" }, "✓"),
      `${accepted.length > 1 ? "Accepted answers" : "Answer"}: ${accepted.join(", ")}`,
    ),
    meaning ? el("p", { className: "review-meaning" }, `Meaning: ${meaning}`) : null,
    item.example ? el("p", { className: "review-example" }, `Example: ${item.example}`) : null,
  );
}

function downloadReview(format, button) {
  const sessionId = reviewFor;
  if (!sessionId) return;
  const what = format === "apkg" ? "the Anki deck" : "the CSV";
  downloadFile(button, what, () => api.reviewFile(sessionId, format));
}

function onError(p) {
  const joining = Boolean(state.pendingJoin);
  switch (p.code) {
    case "ALREADY_ANSWERED":
      markAnswered(null);
      return;
    case "INVALID_SESSION":
      forget();
      return fail("No quiz has that code. Check the code on the host's screen.", "join-code");
    case "NOT_JOINED":
      forget();
      return fail("You're not in this quiz (any more). Join again with your name.", "join-name");
    case "KICKED":
      socket.stop();
      forget({ keepCode: false });
      return showAlert("The host removed you from this quiz.", { sticky: true });
    case "SESSION_NOT_ACTIVE":
      if (joining) resetJoinButton();
      return showAlert(joining ? "That quiz has already ended." : p.message);
    case "NAME_TAKEN":
      resetJoinButton();
      markInvalid("join-name", true);
      return fail("Someone in this quiz already uses that name. Pick another one.", "join-name");
    case "INVALID_NAME":
      resetJoinButton();
      markInvalid("join-name", true);
      return fail(`That name can't be used: ${p.message}`, "join-name");
    case "SESSION_FULL":
      resetJoinButton();
      return showAlert("This quiz is full.");
    case "QUESTION_CLOSED":
      return showAlert("Too late: that question has closed.");
    case "RATE_LIMITED":
      return showAlert("Slow down a little.");
    default:
      if (joining) resetJoinButton();
      return showAlert(p.message || "Something went wrong.");
  }
}

function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}
