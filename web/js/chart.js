// The host's answer chart: while a question is open, its options and nothing of who chose
// what; once revealed, one bar per option (or per distinct typed answer, most given
// first), drawn with plain CSS, as a list a screen reader reads row by row.

import { el, optionMark } from "./ui.js";

const TYPED_ROWS_SHOWN = 8;

/**
 * question: {kind, options}; stats: {answered, distribution: {answer: count}, correct_answers};
 * accepted: the accepted answers once revealed, else null. The host's screen is often
 * shown to the room, so while the question is open it shows only the options: how many
 * chose each (or what was typed) would tell the room the answer. How many have answered
 * is shown beside it (renderAnswersIn); the distribution comes with the reveal.
 */
export function renderAnswerChart(list, question, stats, accepted) {
  if (accepted === null) {
    const options = question.kind === "choice" ? question.options.map(optionRow) : [];
    list.replaceChildren(...options);
    return;
  }
  const { answered, distribution } = stats;
  const rows =
    question.kind === "choice"
      ? question.options.map((option, index) => ({ label: option, count: distribution[option] || 0, index }))
      : Object.entries(distribution)
          .sort((a, b) => b[1] - a[1])
          .slice(0, TYPED_ROWS_SHOWN)
          .map(([label, count]) => ({ label, count, index: null }));
  // Typed answers judged correct (a typo allowed) are ticked too, not only exact spellings.
  const right = new Set(accepted ? [...accepted, ...(stats.correct_answers || [])].map(fold) : []);
  const items = rows.map((row) => barRow(row, answered, right.has(fold(row.label))));
  if (!items.length) items.push(el("li", { className: "hint" }, "No answers yet."));
  list.replaceChildren(...items);
}

function optionRow(option, index) {
  return el("li", { className: "bar-row", dataset: { answer: option } }, optionMark(index), el("span", { className: "bar-label" }, option));
}

/** The share of players who have answered, as the fill of one bar. */
export function renderAnswersIn(fill, answered, players) {
  const share = players ? Math.min(1, answered / players) : 0;
  fill.style.width = `${Math.round(share * 100)}%`;
}

function barRow(row, answered, isRight) {
  const share = answered ? row.count / answered : 0;
  return el(
    "li",
    { className: `bar-row${isRight ? " correct" : ""}`, dataset: { answer: row.label } },
    row.index === null ? null : optionMark(row.index),
    el(
      "span",
      { className: "bar-label" },
      row.label,
      isRight ? el("span", { className: "verdict" }, " ✓ correct") : null,
    ),
    el("span", { className: "bar-track", "aria-hidden": "true" }, barFill(row.index, share)),
    el(
      "span",
      { className: "bar-count" },
      String(row.count),
      el("span", { className: "visually-hidden" }, row.count === 1 ? " answer" : " answers"),
    ),
  );
}

function barFill(index, share) {
  const fill = el("span", { className: `bar-fill${index === null ? "" : ` fill-${index % 4}`}` });
  fill.style.width = `${Math.round(share * 100)}%`; // CSSOM, not a style attribute: CSP-safe
  return fill;
}

/** Close to the server's grouping of typed answers (case and accents ignored). */
function fold(text) {
  return String(text).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trim();
}
