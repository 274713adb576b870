"""Label steps: a queue of steps shown in place, PRM800K labels with keyboard shortcuts, bulk relabel, agreement."""
import streamlit as st

from agentark import jobs
from agentark.config import home
from agentark.labels import auto_labelers, human_labels
from agentark.labels.agreement import agreement
from agentark.labels.gold import GoldConfig, store_gold_run
from agentark.labels.gold_set import gold_set_table
from agentark.labels.labeler_report import gold_set_report, labeler_report
from agentark.labels.labelers import Labeler, inline_labelers, job_labelers, summary_lines
from agentark.runs.names import RunLabels
from agentark.labels.segment import SegmentConfig, segment_runs
from agentark.labels.step_import import StepImportConfig, import_step_file
from agentark.options import from_values
from agentark.safe_text import md_text
from agentark.store import run_tables
from agentark.ui import annotator, errors_shown, get_store
from agentark.ui.forms import option_widgets
from agentark.ui.label_card import label_card

store = get_store()
st.title("Label steps")


# Summaries read every label: computed only when their tab is open, cached, and cleared after each write.
@st.cache_data(ttl=300, show_spinner=False)
def summary(store_path: str, run_ids: tuple[str, ...] | None, _store) -> tuple:
    runs_ = list(run_ids) if run_ids else None
    return human_labels.label_counts(_store), agreement(_store, runs_), labeler_report(_store, runs_)


@st.cache_data(show_spinner=False)
def gold_set_summary():
    return gold_set_table(gold_set_report())


ALL = "all runs"
runs = run_tables.list_runs(store)
run_choices = [ALL] + list(runs["run_id"])
top = st.columns([2, 2, 1])
run_labels = RunLabels.of(runs)
# A link (``/label?run=RUN``, e.g. from the Run page's first result) picks the run once; the picker rules after.
linked = st.query_params.get("run")
if linked in run_choices and st.session_state.get("lab_linked") != linked:
    st.session_state["lab_run"] = st.session_state["lab_linked"] = linked
run_choice = top[0].selectbox("Run", run_choices, key="lab_run",
                              format_func=lambda r: r if r == ALL else run_labels.option(r))
strategy = top[1].selectbox("Queue order", list(human_labels.QUEUE_STRATEGIES),
                            format_func=human_labels.QUEUE_STRATEGIES.get, key="lab_strategy")
run_ids = None if run_choice == ALL else [run_choice]
queue_key = (run_choice, strategy)
if top[2].button("Reload queue", key="lab_reload") or st.session_state.get("lab_queue_key") != queue_key:
    # The order is a snapshot: labeling a step must not reshuffle the queue under the annotator's feet.
    st.session_state["lab_queue"] = human_labels.LabelQueue.open(store, strategy, run_ids)
    st.session_state["lab_queue_key"] = queue_key
    st.session_state["lab_pos"] = 0

# Only the open tab runs (on_change="rerun"): a keypress on the Label tab never computes the table or agreement.
tab_label, tab_table, tab_summary, tab_prepare = st.tabs(["Label", "Table", "Summary", "Prepare"], key="lab_tab",
                                                         on_change="rerun")


TABLE_ROWS = 2000  # rows the table sends to the browser; a bulk label still reaches every matching step


def labels_written() -> None:
    summary.clear()


@st.fragment
def label_tab() -> None:
    """The card holds the next steps in the browser and answers keys there; a batch of labels it sends back
    reruns this fragment alone (agentark.ui.label_card)."""
    if not len(st.session_state["lab_queue"]):
        st.info("No steps to label yet: segment a run on the **Prepare** tab (or `python -m agentark segment`).")
        return
    with errors_shown():
        label_card(store, annotator(), run_labels, labels_written)


if tab_label.open:
    with tab_label:
        label_tab()


def table_tab() -> None:
    f1, f2, f3 = st.columns(3)
    only_unlabeled = f1.checkbox("Only steps without a human label", key="lab_f_unlabeled")
    auto_filter = f2.selectbox("Automatic labels", human_labels.AUTO_FILTERS, key="lab_f_auto")
    contains = f3.text_input("Text contains", key="lab_f_text")
    with errors_shown():
        flt = human_labels.StepFilter(only_unlabeled, auto_filter, contains)
        # One SQL page: a store of a million steps sends the browser TABLE_ROWS rows, never the whole table.
        shown, total = human_labels.filtered_steps(store, run_ids, flt, TABLE_ROWS)
        if not total:
            st.caption("No steps match." if (only_unlabeled or auto_filter != "any" or contains) else "No steps yet.")
            return
        if total > len(shown):
            st.caption(f"Showing the first {len(shown):,} of {total:,} matching steps; narrow the filters to see "
                       "others. Applying a label without a selection labels every matching step.")
        filters = f"{run_choice}|{only_unlabeled}|{auto_filter}|{contains}"
        picked = st.dataframe(shown, hide_index=True, key=f"lab_table_{filters}", on_select="rerun",
                              selection_mode="multi-row")
        rows = picked.selection.rows if picked is not None and hasattr(picked, "selection") else []
        b1, b2 = st.columns([1, 3])
        value = b1.selectbox("Bulk label", [1, 0, -1], format_func=lambda v: f"{v:+d} {human_labels.VALUES[v]}",
                             key="lab_bulk_value")
        if b2.button(f"Apply to {len(rows) or total} {'selected' if rows else 'matching'} steps", key="lab_bulk_apply"):
            targets = (shown.iloc[rows]["step_id"].tolist() if rows
                       else human_labels.filtered_steps(store, run_ids, flt)[0]["step_id"].tolist())
            n = human_labels.bulk_label(store, targets, int(value), annotator(), note="bulk relabel")
            labels_written()
            st.success(f"Labelled {n} steps {value:+d}.")


def summary_tab() -> None:
    counts, results, report = summary(str(store.path), tuple(run_ids) if run_ids else None, store)
    st.dataframe(counts, hide_index=True, key="lab_counts")
    st.markdown("**How right each labeler is** · against people's labels and gold first errors")
    if not report.sources:
        st.caption("No automatic labels on these runs yet: run the labelers on the **Prepare** tab.")
    else:
        st.dataframe(report.table(), hide_index=True, key="lab_labeler_report", column_config={
            c: st.column_config.NumberColumn(format="percent") for c in
            ("precision (neg)", "recall (neg)", "first-error acc.", "coverage")})
        st.caption("Precision/recall of each source's negatives (-1) over the steps the reference labelled; "
                   "first-error accuracy: the share of trajectories whose first error (or cleanness) the reference "
                   "fixes where the source's first -1 is that step (or absent); coverage: the share of claim steps "
                   "it labelled. "
                   "'On first step' and 'on claim-free' count where its negatives fall: many there mean it flags "
                   "openings. `python -m agentark labels report --json` prints the same.")
    st.markdown("**On the gold set** · hand-marked first errors of real-style debates (`agentark/labels/data/`)")
    st.dataframe(gold_set_summary(), hide_index=True, key="lab_gold_set", column_config={
        c: st.column_config.NumberColumn(format="percent") for c in gold_set_summary().columns if c != "source"})
    st.caption("Coverage: wrong messages given a negative; precision: of those, the first negative on the marked "
               "first error; right with a negative: right messages given any negative; recall per error kind. The "
               "last row is the PRM export under its defaults. `python -m agentark labels gold-set` prints the same.")
    if not results:
        st.caption("Agreement needs steps labelled by two annotators, or by a person and an automatic source.")
    for res in results:
        st.markdown(f"**{md_text(res.rater_a)} vs {md_text(res.rater_b)}** · {res.n} steps · Cohen's kappa "
                    + ("—" if res.kappa is None else f"{res.kappa:.2f}"))
        st.dataframe(res.table, key=f"lab_conf_{res.rater_a}_{res.rater_b}")


def job_form(labeler: Labeler) -> None:
    """A job labeler's form, generated from its config over the runs picked above, and its jobs so far."""
    form = f"lab_{labeler.name}"
    with st.form(form):
        st.markdown(f"**{labeler.title} labels** (`{labeler.source}`: {labeler.description}, as a background job)")
        values = option_widgets(labeler.config, form, runs=run_ids or [])
        if st.form_submit_button(f"Start {labeler.title} job"):
            with errors_shown():
                cfg = from_values(labeler.config, values)
                st.success(f"Started {jobs.start(labeler.kind, cfg, store=store).job_id}.")
    table = labeler.jobs() if labeler.jobs else None
    if table is not None and not table.empty:
        st.dataframe(table, hide_index=True, key=f"{form}_jobs")


def prepare_tab() -> None:
    with st.form("lab_segment"):
        values = option_widgets(SegmentConfig, "lab_segment", columns=2)
        if st.form_submit_button("Segment"):
            with errors_shown():
                n = segment_runs(store, run_ids, from_values(SegmentConfig, values))
                st.session_state.pop("lab_queue_key", None)
                labels_written()
                st.success(f"{n} steps stored; labels of unchanged steps are kept.")
    inline = inline_labelers()
    if st.button(f"Run automatic labelers ({', '.join(r.title for r in inline)})", key="lab_auto",
                 help="; ".join(f"{r.source}: {r.description}" for r in inline)):
        with errors_shown():
            written = auto_labelers.run_auto_labelers(store, auto_labelers.AutoLabelConfig(run_ids=run_ids or []))
            labels_written()
            st.success("; ".join(summary_lines(written)))
    for labeler in job_labelers():
        job_form(labeler)
    with st.form("lab_gold"):
        st.markdown("**Gold debate** (a real-style Du et al. file with planted first errors, imported with its key as "
                    "`gold` labels, to measure the labelers on the Summary tab)")
        values = option_widgets(GoldConfig, "lab_gold", columns=3)
        if st.form_submit_button("Build gold debate"):
            with errors_shown():
                gold_run, n = store_gold_run(store, home() / "gold", from_values(GoldConfig, values))
                labels_written()
                st.success(f"Run {gold_run}: {n} gold labels. Run the labelers on it, then open the Summary tab.")
    with st.form("lab_import"):
        st.markdown("**Import labeled steps**")
        values = option_widgets(StepImportConfig, "lab_import", columns=3)
        if st.form_submit_button("Import"):
            with errors_shown():
                report = import_step_file(store, from_values(StepImportConfig, values))
                labels_written()
                st.success(f"Imported {report['solutions']} solutions, {report['labels']} labels as run {report['run_id']}.")
                for line, reason in report["rejected"][:5]:
                    st.warning(f"line {line} skipped: {md_text(reason)}")


for tab, body in ((tab_table, table_tab), (tab_summary, summary_tab), (tab_prepare, prepare_tab)):
    if tab.open:
        with tab:
            body()
