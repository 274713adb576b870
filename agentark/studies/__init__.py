"""Studies: one declared experiment (does distilling the debate beat cheaper data?) that the studio runs, resumes
and reports. ``study_config`` is the declaration (and the study file), ``study_job`` the ``study`` job kind that
drives the existing jobs step by step, ``matched_volume`` the single-agent arm's row choice, ``study_report`` the
result table. This package's ``__init__`` imports nothing, so the CLI's parser stays light.
"""
