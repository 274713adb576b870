"""Step labels, from segmentation to the labels a PRM trains on: segmenting messages into steps, the automatic
labelers (arithmetic check, outcome, debate signal) and the first-error checks they use, a gold set of
hand-marked first errors, human labels and agreement, Monte-Carlo rollouts and their job, the PRM
labeler and its job, and imports of labeled step data (PRM800K, Math-Shepherd).

Design decision: every label is an appended row with its source; nothing here overwrites a label, and the
two labeling job kinds live here beside their domain, on the job framework in ``agentark.jobs``.
"""
