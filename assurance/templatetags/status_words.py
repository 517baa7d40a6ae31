"""Tags in the product's one set of status words and styles (assurance.status_words).

``{% status_tag key %}`` shows the status of ``key`` as a tag, in its words; ``text=`` puts other words in the same
style ("Co-ordinating commissioner", a report's state as the model says it) and ``label=`` is read before the words
by screen readers. ``{{ key|status_style }}`` is the tag's class modifier, for markup that builds its own tag.
"""

from django import template

from ..status_words import status_word

register = template.Library()


@register.inclusion_tag("partials/tag.html")
def status_tag(key: str, text: str = "", label: str = "") -> dict:
    word = status_word(key)
    return {"text": text or word.text, "style": word.style, "label": label}


@register.filter
def status_style(key: str) -> str:
    return status_word(key).style
