"""The product's one set of status words and the style of each one's tag.

RAG colours (red, amber, green and the grey of "no colour") mean a RAG status and nothing else; every other state
(where a return, a contract, an action or a report stands) is a neutral tag: white outlined, light blue, solid
blue, blue bordered or black. Pages never pick a tag's colour themselves: they name a status by its key here
(``{% status_tag "overdue" %}``, assurance/templatetags/status_words.py) and get its words and style. The README's
section "Status words and colours" lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The styles a tag may have (``tag--<style>`` in static/css/assure.css), with what each means.
RAG_STYLES = {
    "red": "RAG red: below the tolerance band",
    "amber": "RAG amber: within the tolerance band below the threshold",
    "green": "RAG green: the threshold is met",
    "grey": "RAG without a colour: not due, a trend, not computed yet",
}
NEUTRAL_STYLES = {
    "outline": "White, outlined: waiting, nothing done yet, or no longer in use",
    "light": "Light blue: under way, or information",
    "solid": "Solid blue: done",
    "bordered": "White with a blue border: sent back or turned down, to do again",
    "dark": "Black: past its deadline, or failed",
}
STYLES = RAG_STYLES | NEUTRAL_STYLES


@dataclass(frozen=True)
class StatusWord:
    """A status as it reads on every page: its words, what they mean and its tag's style."""

    text: str
    meaning: str
    style: str


#: Every status by its key: the key is the code the pages already use (a RAG colour, a submission state...).
RAG = {
    "red": StatusWord("Red", "Below the threshold's tolerance band", "red"),
    "amber": StatusWord("Amber", "Below the threshold, within its tolerance band", "amber"),
    "green": StatusWord("Green", "The threshold is met", "green"),
    "none": StatusWord("No colour", "A trend or a narrative: no threshold to meet", "grey"),
    "not_due": StatusWord("Not due", "Not asked in this period", "grey"),
    "not_computed": StatusWord("Not computed yet", "Submitted; its RAG status is still being worked out", "grey"),
    "not_asked": StatusWord("Not asked", "The return holds no answer in this framework", "grey"),
}
STATES = {
    # A return's submission
    "not_started": StatusWord("Not started", "No one has started the return; its deadline is still to come", "outline"),
    "not_yet": StatusWord("Not yet submitted", "Not in yet; its deadline is still to come", "outline"),
    "draft": StatusWord("Draft", "Being answered; not submitted yet", "light"),
    "submitted": StatusWord("Submitted", "Submitted by the provider's safeguarding lead by the deadline", "solid"),
    "on_time": StatusWord("On time", "Submitted by the deadline", "solid"),
    "submitted_late": StatusWord("Submitted late", "Submitted after the deadline", "dark"),
    "late": StatusWord("Late", "Submitted after the deadline", "dark"),
    "returned": StatusWord("Returned for revision", "Sent back to the provider to revise and submit again", "bordered"),
    "overdue": StatusWord("Overdue", "Not in (or not done) by its deadline", "dark"),
    "accepted": StatusWord("Accepted", "Reviewed and accepted by the commissioner", "solid"),
    "in_progress": StatusWord("In progress", "A quarter not over, or its return not yet due: no figure yet", "light"),
    # An action in an action plan
    "not_due_yet": StatusWord("Not due yet", "An action whose date is more than 30 days away", "outline"),
    "due_soon": StatusWord("Due soon", "An action due within 30 days", "light"),
    "done": StatusWord("Done", "An action followed up and done", "solid"),
    # A contract
    "contract_proposed": StatusWord(
        "Waiting for the provider to accept", "A contract the provider has not answered", "outline"
    ),
    "contract_accepted": StatusWord("Accepted", "A contract the provider accepted", "solid"),
    "contract_refused": StatusWord("Refused by the provider", "A contract the provider turned down", "bordered"),
    # A committee report
    "queued": StatusWord("Queued", "A report waiting to be made", "outline"),
    "rendering": StatusWord("Being made", "A report being made", "light"),
    "ready": StatusWord("Ready", "A report ready to download", "solid"),
    "failed": StatusWord("Failed", "A report that could not be made", "dark"),
    # A framework version
    "not_in_force_yet": StatusWord("Not yet in force", "A framework version whose start date is to come", "light"),
    "in_force": StatusWord("In force", "The framework version in force today", "solid"),
    "ended": StatusWord("Ended", "A framework version no longer in force", "outline"),
    # People and organisations
    "expired": StatusWord("Expired", "An invitation no longer usable", "outline"),
    "inactive": StatusWord("No longer active", "An organisation no longer active", "outline"),
    # Information, not a state
    "information": StatusWord("", "A fact about a thing (co-ordinating commissioner, a time rule, a note)", "light"),
    "confirmed": StatusWord("Figure confirmed", "A figure far from recent ones that the provider confirmed", "light"),
    # Answers carried forward from the quarter before
    "carried": StatusWord(
        "Not yet confirmed", "An answer carried forward from an earlier quarter, to confirm or change", "bordered"
    ),
    "carried_confirmed": StatusWord(
        "Confirmed unchanged", "An answer carried forward and confirmed unchanged", "solid"
    ),
}
STATUS_WORDS = RAG | STATES


def status_word(key: str) -> StatusWord:
    """The status of a key; an unknown key is a mistake in a page, so it fails rather than showing a wrong tag."""
    try:
        return STATUS_WORDS[key]
    except KeyError:
        raise ValueError(f"There is no status {key!r} in assurance.status_words.") from None
