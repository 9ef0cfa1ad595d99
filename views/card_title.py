"""``title()``: the first line of every card, a template global (views/templating.py).

Its state badge comes from the snapshot's verdicts (monitor/health.py): colour AND a word, never
colour alone; "not judged" when every check of the area is disabled. Of what is pending it names
the worst and soonest ("+N" more: the banner lists them all). A card passes its headline value
as the ``{% call title(...) %}`` block's body.

It was a Jinja macro in partials/_card.html; a macro call cost 24 µs of a card's 30-370 (the
macro machinery and its context), ten cards a tick (issue 19). This makes the same HTML, each
host or verdict string escaped as autoescape would.
"""
from __future__ import annotations

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape


def title(label: str, snap, area: str, caller=None) -> Markup:
    state = snap.state_of(area)
    word = "not judged" if state == "unjudged" else state
    label = escape(label)
    html = f'<h2 class="card-title">{label} <span class="state state-{escape(state)}">{escape(word)}</span>'
    coming = snap.pending_of(area)
    if coming:
        v = coming[0]
        subject = f" ({escape(v.subject)})" if v.subject else ""
        more = f" +{len(coming) - 1}" if len(coming) > 1 else ""
        html += (f' <span class="card-pending pending-{escape(v.pending)}" data-check="{escape(v.check)}">'
                 f'{escape(v.pending)} in {int(round(v.pending_in))} s if it stays{subject}{more}</span>')
    if caller is not None:
        html += str(caller())  # str: Markup on the right of + would escape the left
    return Markup(f'{html} <a class="card-history" href="/history?area={escape(do_urlencode(area))}" '
                  f'aria-label="{label} history">history</a></h2>\n')
