// Follows the sitting's snapshot to keep vote counts and status current.
// It never touches a ballot form: a choice being made is never reset.
const live = () => document.querySelectorAll("[data-vote-live]");

function apply(vote) {
  for (const node of live()) {
    const poll = Number(node.dataset.votePoll);
    const notice = node.parentElement.querySelector("[data-vote-changed]");
    if (!vote || vote.poll !== poll) {
      // Another poll (a run-off, the next item): say so; the page reloads nothing.
      if (notice && vote) notice.hidden = false;
      continue;
    }
    const voted = node.querySelector("[data-vote-voted]");
    const eligible = node.querySelector("[data-vote-eligible]");
    if (voted && String(vote.voted) !== voted.textContent) voted.textContent = vote.voted;
    if (eligible && String(vote.eligible) !== eligible.textContent) {
      eligible.textContent = vote.eligible;
    }
    if (vote.state !== node.dataset.voteState && notice) {
      notice.hidden = false;
      const forms = document.querySelectorAll("form[data-ballot] button[type=submit]");
      // A closed poll refuses ballots anyway; disabling the button says so early.
      if (vote.state !== "open") for (const button of forms) button.disabled = true;
    }
  }
}

// sitting.js dispatches the whole snapshot after every update it applies.
document.addEventListener("sitting:snapshot", (event) => apply(event.detail.vote));
