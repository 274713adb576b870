"""The labeling card as a Streamlit custom component that holds the queue's next steps in the browser.

A server round trip per key costs 200-500 ms on the studio's machine (and seconds under load), so a key must
never wait for the server. The one design decision: **the browser owns the position and the unsent labels; the
server owns the store.** The card (``label_card.js``) gets a window of steps ahead of its position, shows the
next one on a key at once, keeps every label in localStorage until the server acknowledges it, and sends the
unacknowledged ones in batches (trigger ``sync``: the batch, the position, the queue). The server writes a batch
in one store operation (``human_labels.store_batch``; ids given in the browser make a resent batch store
nothing twice), answers with the ids it holds and a window around the position, and remembers the position so
a full rerun shows the same step. A batch unacknowledged for 2 s is sent again; a new session (a reload, a
server restart) gets the labels still in localStorage first.
"""
from __future__ import annotations

from collections import deque
from functools import partial
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

from agentark.errors import AgentArkError, ConfigError, as_label
from agentark.labels import human_labels
from agentark.labels.corrections import Correction
from agentark.store import Store

_HERE = Path(__file__).resolve().parent
_CARD = st.components.v2.component(
    "agentark.label_card", html=(_HERE / "label_card.html").read_text(), css=(_HERE / "label_card.css").read_text(),
    js=(_HERE / "label_card.js").read_text())

BEHIND = 10   # steps kept behind the position, for "previous"
AHEAD = 80    # steps sent ahead of it; the card asks for more when fewer than 30 are left
ACKED_BATCHES = 2  # batches whose ids the next runs acknowledge; a batch whose answer was lost is sent again


def _items(payload: dict) -> tuple[list, list, dict[str, str]]:
    """Labels and corrections of a batch from the browser; items that cannot be stored are rejected by id."""
    labels, fixes, rejected = [], [], {}
    for item in payload.get("items") or []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        try:
            if item.get("kind") == "correction":
                fixes.append(Correction(str(item.get("step_id")), str(item.get("text") or ""),
                                        str(item.get("annotator") or ""), rest=item.get("rest") or None,
                                        note=item.get("note") or None, correction_id=item["id"]))
            else:
                value = item.get("value")
                labels.append(human_labels.HumanLabel(str(item.get("step_id")), None if value is None else int(value),
                                                      str(item.get("annotator") or ""), flag=bool(item.get("flag")),
                                                      note=item.get("note") or None, label_id=item["id"]))
        except (AgentArkError, TypeError, ValueError) as exc:
            rejected[item["id"]] = exc.worded(as_label) if isinstance(exc, AgentArkError) else str(exc)
    return labels, fixes, rejected


def store_sync(store: Store, payload: dict) -> tuple[list[str], dict[str, str], str | None]:
    """Write one batch from the card: the ids now in the store, the ids refused (with why), and an error that
    kept the batch out (a store held too long by another process: the card keeps the batch and sends it again)."""
    labels, fixes, rejected = _items(payload)
    try:
        try:
            human_labels.store_batch(store, labels, fixes)
        except ConfigError:
            # A correction that cannot be stored (its step was segmented away) must not hold the others back.
            stored = []
            for one_labels, one_fixes in [([lab], []) for lab in labels] + [([], [fix]) for fix in fixes]:
                ident = one_labels[0].label_id if one_labels else one_fixes[0].correction_id
                try:
                    human_labels.store_batch(store, one_labels, one_fixes)
                    stored.append(ident)
                except ConfigError as err:
                    rejected[ident] = err.worded(as_label)
            return stored, rejected, None
    except AgentArkError as exc:
        return [], rejected, exc.worded(as_label)
    return [lab.label_id for lab in labels] + [fix.correction_id for fix in fixes], rejected, None


def _on_sync(key: str, store: Store, on_written: Callable[[], None]) -> None:
    payload = st.session_state[key].get("sync")
    if not isinstance(payload, dict):
        return
    acked, rejected, error = store_sync(store, payload)
    st.session_state.setdefault("lab_acked", deque(maxlen=ACKED_BATCHES)).append(acked)
    st.session_state.setdefault("lab_rejected", {}).update(rejected)
    st.session_state["lab_sync_error"] = error
    st.session_state["lab_synced"] = payload.get("id")
    queue: human_labels.LabelQueue = st.session_state["lab_queue"]
    if payload.get("full"):
        st.session_state.pop("lab_sent", None)  # the browser lacks the step it shows: send the window again
    if payload.get("queue") == queue.token and isinstance(payload.get("pos"), int):
        st.session_state["lab_pos"] = max(0, payload["pos"])
        if payload.get("reopen") and error is None and payload["pos"] == 0:
            # Labels kept by the browser (a closed tab, a restarted server) were stored after this queue was
            # opened, so their steps would come first; a person still at its start gets the queue afresh.
            st.session_state["lab_queue"] = human_labels.LabelQueue.open(store, queue.strategy, queue.run_ids)
            st.session_state["lab_reopened"] = payload.get("id")  # the browser ends its request on this answer only
    if acked:
        on_written()


def _plain(value):
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def suggestions(history: list[dict]) -> list[dict]:
    """The automatic labels in force on a step (each automatic source's latest row, unless withdrawn), negatives
    first, each with its reason (the label's note): what the card offers to accept in one key."""
    latest: dict[str, dict] = {}
    for h in history:
        if str(h.get("source") or "").startswith("auto:") and not h.get("correction"):
            latest[h["source"]] = h
    found = [{"source": s, "value": h["value"], "reason": h.get("note")} for s, h in latest.items()
             if h.get("value") is not None]
    return sorted(found, key=lambda x: (x["value"] >= 0, x["source"]))


def card_data(queue: human_labels.LabelQueue, pos: int, annotator: str, run_label: Callable[[str], str]) -> dict:
    """What the card gets on a run: the queue's id and length, the cards of the window around ``pos`` it was not
    sent yet (with their messages' texts; the browser keeps what it got), and the acknowledgements. Sending only
    what is new keeps each rerun's message small, so it never holds up the browser's next key."""
    token, sent = st.session_state.get("lab_sent", (None, set()))
    if token != queue.token:
        sent = set()
    cards, messages = [], {}
    for c in queue.cards(pos - BEHIND, pos + AHEAD):
        if c["pos"] in sent:
            continue
        sent.add(c["pos"])
        messages.setdefault(c["message_id"], {
            "content": c["content"] or "", "question": c["question"], "reference_answer": _plain(c["reference_answer"]),
            "answer": _plain(c["answer"]),
            "is_correct": None if _plain(c["is_correct"]) is None else bool(c["is_correct"])})
        cards.append({"pos": c["pos"], "step_id": c["step_id"], "message_id": c["message_id"], "idx": int(c["idx"]),
                      "text": c["text"], "char_start": int(c["char_start"]), "char_end": int(c["char_end"]),
                      "run": run_label(c["run_id"]), "agent": c["agent"], "round": int(c["round"]),
                      "history": c["history"], "suggestions": suggestions(c["history"])})
    st.session_state["lab_sent"] = (queue.token, sent)
    return {"queue": queue.token, "total": len(queue), "pos": pos, "annotator": annotator, "cards": cards,
            "messages": messages, "acked": [i for batch in st.session_state.get("lab_acked", ()) for i in batch],
            "rejected": dict(st.session_state.get("lab_rejected", {})), "synced": st.session_state.get("lab_synced"),
            "error": st.session_state.get("lab_sync_error"), "reopened": st.session_state.get("lab_reopened")}


def label_card(store: Store, annotator: str, run_label: Callable[[str], str], on_written: Callable[[], None],
               key: str = "lab_card") -> None:
    """Mount the card on ``st.session_state["lab_queue"]`` at ``st.session_state["lab_pos"]``. Put it in a
    fragment: a batch from the browser then reruns the card alone."""
    queue: human_labels.LabelQueue = st.session_state["lab_queue"]
    pos = min(st.session_state.get("lab_pos", 0), max(len(queue) - 1, 0))
    _CARD(key=key, data=card_data(queue, pos, annotator, run_label),
          on_sync_change=partial(_on_sync, key, store, on_written))
