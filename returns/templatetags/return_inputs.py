"""The answer inputs of the return's form, written out in Python rather than as included templates.

A return page has a hundred-odd inputs; an ``{% include %}`` of a partial template for each cost about a third of
the page's CPU time (issue 14). These tags write the same GOV.UK markup directly, every value escaped: a label,
a hint, the error beside the input, the hidden copy of the value the page was rendered with, and what someone else
saved meanwhile. ``input`` is one of :attr:`returns.views.page.Question.inputs` (or its ``confirmation``).
"""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

register = template.Library()


def _errors(input: dict) -> str:
    """The messages beside the input, each announced as an error."""
    lines = "".join(
        f'<span class="error-message__line"><span class="visually-hidden">Error:</span> {conditional_escape(e)}</span>'
        for e in input["errors"]
    )
    return f'<p class="error-message" id="{conditional_escape(input["id"])}-error">{lines}</p>'


def _hidden_initial(input: dict) -> str:
    name, value = conditional_escape(input["initial_name"]), conditional_escape(input["initial"])
    return f'<input type="hidden" name="{name}" value="{value}">'


def _theirs(input: dict, conflict_person: str, longest: int | None = None) -> str:
    if not input.get("theirs"):
        return ""
    theirs = Truncator(input["theirs"]).chars(longest) if longest else input["theirs"]
    return (
        f'<span class="conflict-value" id="{conditional_escape(input["id"])}-theirs">'
        f"{conditional_escape(conflict_person)} saved: <strong>{conditional_escape(theirs)}</strong></span>"
    )


@register.simple_tag
def text_input(
    input: dict, hint="", width=None, inputmode="", multiline=False, rows=5, conflict_person=""
) -> SafeString:
    """A text input (or a text area, ``multiline``) with its label, hint with the field's limit, and error.

    ``width`` (5 or 10) narrows an input; a text area with a ``longest`` gets a character counter from
    static/js/character-count.js.
    """
    id_ = conditional_escape(input["id"])
    errors, limit = input["errors"], input.get("limit") or ""
    parts = [f'<div class="form-group{" form-group--error" if errors else ""}">']
    parts.append(f'<label class="label" for="{id_}">{conditional_escape(input["label"])}</label>')
    described = []
    if hint or limit:
        text = f"{conditional_escape(hint)} " if hint else ""
        parts.append(f'<div class="hint" id="{id_}-hint">{text}{conditional_escape(limit)}</div>')
        described.append(f"{id_}-hint")
    if errors:
        parts.append(_errors(input))
        described.append(f"{id_}-error")
    if input.get("theirs"):
        described.append(f"{id_}-theirs")
    describedby = f' aria-describedby="{" ".join(described)}"' if described else ""
    name, value = conditional_escape(input["name"]), conditional_escape(input["value"])
    if multiline:
        longest = f' data-longest="{int(input["longest"])}"' if input.get("longest") else ""
        parts.append(
            f'<textarea class="textarea{" textarea--error" if errors else ""}" id="{id_}" name="{name}" '
            f'rows="{int(rows or 5)}"{longest}{describedby}>{value}</textarea>'
        )
    else:
        classes = "input" + (f" input--width-{int(width)}" if width else "") + (" input--error" if errors else "")
        mode = f' inputmode="{conditional_escape(inputmode)}"' if inputmode else ""
        parts.append(
            f'<input class="{classes}" id="{id_}" name="{name}" type="text" value="{value}" '
            f'spellcheck="false"{mode}{describedby}>'
        )
    parts.append(_hidden_initial(input))
    parts.append(_theirs(input, conflict_person, longest=300))
    parts.append("</div>")
    return mark_safe("\n".join(parts))  # noqa: S308  every value above is escaped


@register.simple_tag
def radios(input: dict, choices, inline=False, conflict_person="") -> SafeString:
    """Radios for one answer field in a fieldset named by its label; the first radio carries the field's id, so
    that errors link to it. ``choices`` are (value, label) pairs."""
    id_ = conditional_escape(input["id"])
    errors = input["errors"]
    described = ([f"{id_}-error"] if errors else []) + ([f"{id_}-theirs"] if input.get("theirs") else [])
    describedby = f' aria-describedby="{" ".join(described)}"' if described else ""
    parts = [
        f'<div class="form-group{" form-group--error" if errors else ""}">',
        f'<fieldset class="fieldset"{describedby}>',
        f'<legend class="fieldset__legend fieldset__legend--s">{conditional_escape(input["label"])}</legend>',
    ]
    if errors:
        parts.append(_errors(input))
    parts.append(f'<div class="radios{" radios--inline" if inline else ""}">')
    name, chosen = conditional_escape(input["name"]), input["value"]
    for index, (value, label) in enumerate(choices):
        radio_id = id_ if index == 0 else f"{id_}-{conditional_escape(value)}"
        checked = " checked" if chosen == value else ""
        parts.append(
            f'<div class="radios__item"><input class="radios__input" type="radio" id="{radio_id}" name="{name}" '
            f'value="{conditional_escape(value)}"{checked}>'
            f'<label class="radios__label" for="{radio_id}">{conditional_escape(label)}</label></div>'
        )
    parts.append("</div>")
    parts.append(_hidden_initial(input))
    parts.append(_theirs(input, conflict_person))
    parts.append("</fieldset></div>")
    return mark_safe("\n".join(parts))  # noqa: S308  every value above is escaped
